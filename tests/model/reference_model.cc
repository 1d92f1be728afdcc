#include "reference_model.h"

#include <algorithm>
#include <cmath>

#include "io/safetensors.h"
#include "model/weights.h"

namespace bit_ttt::testing {
namespace {

using Vec = std::vector<double>;

Vec rms_norm(const Vec& x, const Vec& w, double eps) {
  double mean_square = 0;
  for (double v : x) mean_square += v * v;
  mean_square /= static_cast<double>(x.size());
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] / std::sqrt(mean_square + eps) * w[i];
  return y;
}

// y = x~ · W~ᵀ with W [n_out, n_in] per the BitLinear definition.
Vec bit_linear(const Vec& x, const Vec& w, size_t n_out, bool int8) {
  const size_t n_in = x.size();
  double mean_abs = 0;
  for (double v : w) mean_abs += std::fabs(v);
  const double beta = std::max(mean_abs / static_cast<double>(w.size()), 1e-5);
  Vec x_tilde = x;
  if (int8) {
    double gamma = 0;
    for (double v : x) gamma = std::max(gamma, std::fabs(v));
    gamma = std::max(gamma, 1e-5);
    for (size_t i = 0; i < n_in; ++i) {
      const double q = std::clamp(std::nearbyint(x[i] * 127.0 / gamma), -128.0, 127.0);
      x_tilde[i] = q * gamma / 127.0;
    }
  }
  Vec y(n_out, 0.0);
  for (size_t o = 0; o < n_out; ++o) {
    double sum = 0;
    for (size_t i = 0; i < n_in; ++i) {
      const double wq = std::clamp(std::nearbyint(w[o * n_in + i] / beta), -1.0, 1.0);
      sum += x_tilde[i] * beta * wq;
    }
    y[o] = sum;
  }
  return y;
}

}  // namespace

ReferenceModel ReferenceModel::load(const std::filesystem::path& model_dir) {
  ReferenceModel model;
  model.config = BitLlamaConfig::load(model_dir / "config.json");
  const SafetensorsReader reader = SafetensorsReader::open(model_dir / "model.safetensors");
  for (const TensorSpec& spec : model_tensor_specs(model.config)) {
    const F32Data data = reader.load_f32(spec.name, spec.shape);
    model.tensors[spec.name] = Vec(data.data, data.data + data.count);
  }
  return model;
}

std::vector<std::vector<double>> ReferenceModel::forward(
    const std::vector<int32_t>& tokens, std::vector<std::vector<double>>* final_states) const {
  const auto& c = config;
  const size_t D = c.hidden_dim, d = c.ttt_dim, I = c.intermediate_dim, V = c.vocab_size;
  const bool int8 = c.activation_quant == ActivationQuant::int8;
  const double eps = c.rms_norm_eps, eta = c.inner_lr;
  auto tensor = [&](const std::string& name) -> const Vec& { return tensors.at(name); };
  std::vector<Vec> states(c.num_layers, Vec(d * d, 0.0));
  std::vector<std::vector<double>> all_logits;

  for (int32_t token : tokens) {
    const Vec& embed = tensor("embed.weight");
    Vec h(embed.begin() + token * D, embed.begin() + (token + 1) * D);
    for (int64_t layer = 0; layer < c.num_layers; ++layer) {
      const std::string prefix = "layers." + std::to_string(layer) + ".";
      // TTT
      Vec x = rms_norm(h, tensor(prefix + "norm1.weight"), eps);
      Vec k = bit_linear(x, tensor(prefix + "ttt.down.weight"), d, int8);
      double norm = 0;
      for (double v : k) norm += v * v;
      norm = std::sqrt(norm);
      Vec f(d);
      for (size_t i = 0; i < d; ++i) f[i] = k[i] / (norm + 1e-6);
      Vec& S = states[layer];
      Vec p(d, 0.0);
      for (size_t r = 0; r < d; ++r)
        for (size_t col = 0; col < d; ++col) p[r] += S[r * d + col] * f[col];
      for (size_t r = 0; r < d; ++r)
        for (size_t col = 0; col < d; ++col) S[r * d + col] -= eta * (p[r] - f[r]) * f[col];
      Vec o = bit_linear(p, tensor(prefix + "ttt.up.weight"), D, int8);
      for (size_t i = 0; i < D; ++i) h[i] += o[i];
      // SwiGLU
      x = rms_norm(h, tensor(prefix + "norm2.weight"), eps);
      Vec gate = bit_linear(x, tensor(prefix + "mlp.gate_proj.weight"), I, int8);
      Vec up = bit_linear(x, tensor(prefix + "mlp.up_proj.weight"), I, int8);
      Vec a(I);
      for (size_t i = 0; i < I; ++i) a[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
      Vec down = bit_linear(a, tensor(prefix + "mlp.down_proj.weight"), D, int8);
      for (size_t i = 0; i < D; ++i) h[i] += down[i];
    }
    Vec hn = rms_norm(h, tensor("norm_f.weight"), eps);
    const Vec& head = tensor("lm_head.weight");
    Vec logits(V, 0.0);
    for (size_t v = 0; v < V; ++v)
      for (size_t i = 0; i < D; ++i) logits[v] += head[v * D + i] * hn[i];
    all_logits.push_back(std::move(logits));
  }
  if (final_states) *final_states = states;
  return all_logits;
}

}  // namespace bit_ttt::testing
