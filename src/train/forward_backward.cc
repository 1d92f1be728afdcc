// The training pass over R = B·T rows (shapes per block; D hidden, d TTT, I MLP, V vocab):
//
//   h_in [R,D] ─rms_norm(norm1)→ a1 [R,D] ─BitLinear ttt.down→ k [R,d] ─l2→ f [R,d]
//     ─ttt_scan (per sequence)→ p = a2 [R,d] ─BitLinear ttt.up→ [R,D] ─(+h_in)→ h_mid [R,D]
//   h_mid ─rms_norm(norm2)→ a3 [R,D] ─BitLinear gate/up→ gate, up [R,I] ─swiglu→ a4 [R,I]
//     ─BitLinear down_proj→ [R,D] ─(+h_mid)→ next h_in
//   h_final ─rms_norm(norm_f)→ hn [R,D] ─lm_head→ logits [rows,V] ─cross-entropy→ loss
//
// Saved for the backward, per block: h_in, h_mid, the four BitLinear inputs a1..a4
// (as x~ in int8 mode, which is all their weight gradients need), f and ‖k‖, gate,
// up and the RMSNorm scales. The TTT states are not saved: the scan's backward
// recomputes them per sequence (ops_ttt.h). The backward walks the same graph in
// reverse with dh = ∂L/∂(residual stream) accumulating each branch's input gradient.
#include "train/forward_backward.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <string_view>

#include "bit_ttt/error.h"
#include "core/thread_pool.h"
#include "train/ops_bit_linear.h"
#include "train/ops_blas.h"
#include "train/ops_cross_entropy.h"
#include "train/ops_embedding.h"
#include "train/ops_norm.h"
#include "train/ops_swiglu.h"
#include "train/ops_ttt.h"

namespace bit_ttt {
namespace {

// Normalisation epsilon of the TTT feature, f = k / (‖k‖ + 1e-6), spec §3.
constexpr double kTttFeatureEps = 1e-6;
// Rows of logits alive at once in the head: [256, V] floats is 16 MB at V 16384.
constexpr int64_t kHeadChunkRows = 256;
// BitLinear tensors per block: ttt.down, ttt.up, gate_proj, up_proj, down_proj.
constexpr int kLinearsPerLayer = 5;

enum Phase {
  kQuantizeWeights,
  kEmbedding,
  kNorms,
  kQuantizeActivations,
  kLinearForward,
  kScanForward,
  kSwiglu,
  kSwigluBackward,
  kResidual,
  kHeadForward,
  kCrossEntropy,
  kHeadBackward,
  kLinearBackward,
  kScanBackward,
  kPhaseCount
};
constexpr std::array<const char*, kPhaseCount> kPhaseNames = {
    "quantize_weights", "embedding",    "norms",         "quantize_activations",
    "linear_forward",   "scan_forward", "swiglu",        "swiglu_backward",
    "residual",         "head_forward", "cross_entropy", "head_backward",
    "linear_backward",  "scan_backward"};

using Clock = std::chrono::steady_clock;

// Adds the lifetime of the object to one phase's total.
class PhaseTimer {
 public:
  PhaseTimer(std::array<double, kPhaseCount>& totals, Phase phase)
      : totals_(totals), phase_(phase), start_(Clock::now()) {}
  ~PhaseTimer() { totals_[phase_] += std::chrono::duration<double>(Clock::now() - start_).count(); }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  std::array<double, kPhaseCount>& totals_;
  Phase phase_;
  Clock::time_point start_;
};

template <typename T>
void grow(std::vector<T>& buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
}

// Where one block's tensors start in a parameter (or gradient) buffer.
struct LayerOffsets {
  size_t norm1 = 0, norm2 = 0;
  std::array<size_t, kLinearsPerLayer> linear{};  // ttt.down, ttt.up, gate, up, down
};

// Offsets of every tensor, found by position in model_tensor_specs order and checked
// by name suffix (no strings built, so a step allocates nothing once sized).
void find_offsets(const ModelParams& layout, std::vector<LayerOffsets>& layers) {
  const auto& entries = layout.entries;
  const size_t n_layers = static_cast<size_t>(layout.config.num_layers);
  constexpr const char* kSuffixes[7] = {
      "norm1.weight",         "ttt.down.weight",    "ttt.up.weight",       "norm2.weight",
      "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"};
  if (entries.size() != 3 + 7 * n_layers || entries.front().name != "embed.weight")
    fail("parameter layout does not follow the model's tensor order (", entries.size(),
         " tensors for ", n_layers, " layers)");
  layers.resize(n_layers);
  for (size_t l = 0; l < n_layers; ++l) {
    size_t offsets[7];
    for (size_t k = 0; k < 7; ++k) {
      const ParamEntry& entry = entries[1 + 7 * l + k];
      if (!std::string_view(entry.name).ends_with(kSuffixes[k]))
        fail("parameter layout does not follow the model's tensor order at '", entry.name, "'");
      offsets[k] = entry.offset;
    }
    layers[l] = {
        offsets[0], offsets[3], {offsets[1], offsets[2], offsets[4], offsets[5], offsets[6]}};
  }
}

// Everything a pass over R rows keeps or reuses, for one scalar type.
// Per-layer buffers hold N blocks of [R, width] back to back.
template <typename T>
struct PassBuffers {
  // Ternary codes (as T) of every BitLinear weight, 5 per layer.
  std::vector<T> codes;
  std::vector<int8_t> codes_i8;
  // Saved for the backward, per layer. a1..a4 are the BitLinear inputs: the
  // normalised / scanned / gated activations, replaced by x~ in int8 mode.
  std::vector<T> h_in, rstd1, a1, f, k_norm, a2, h_mid, rstd2, a3, gate, up, a4;
  std::vector<T> h_final, rstd_f, hn;
  // Scratch.
  std::vector<T> k, o, xq, gamma, logits, losses, scan;
  std::vector<int8_t> xq_i8;
  std::vector<int32_t> targets;
  // Backward.
  std::vector<T> dh, d_norm, d_tmp, d_hn, d_big1, d_big2, d_p, d_f, d_k;
  // Per pass: tensor offsets, and W~ of every BitLinear (weights[l·5 + j]) with the
  // offset of its codes.
  std::vector<LayerOffsets> layers;
  std::vector<train::BitLinearWeight<T>> weights;
  std::vector<int64_t> code_offsets;

  size_t n_bytes() const {
    size_t total = codes_i8.capacity() + xq_i8.capacity() + 4 * targets.capacity();
    for (const std::vector<T>* v :
         {&codes,  &h_in,  &rstd1, &a1,     &f,      &k_norm,  &a2,     &h_mid,
          &rstd2,  &a3,    &gate,  &up,     &a4,     &h_final, &rstd_f, &hn,
          &k,      &o,     &xq,    &gamma,  &logits, &losses,  &scan,   &dh,
          &d_norm, &d_tmp, &d_hn,  &d_big1, &d_big2, &d_p,     &d_f,    &d_k})
      total += sizeof(T) * v->capacity();
    return total;
  }
};

}  // namespace

struct TrainWorkspace::Impl {
  PassBuffers<float> f32;
  PassBuffers<double> f64;
  std::array<double, kPhaseCount> timings{};

  PassBuffers<float>& buffers(float*) { return f32; }
  PassBuffers<double>& buffers(double*) { return f64; }
};

TrainWorkspace::TrainWorkspace() : impl(std::make_unique<Impl>()) {}
TrainWorkspace::~TrainWorkspace() = default;

std::vector<std::pair<std::string, double>> TrainWorkspace::last_timings() const {
  std::vector<std::pair<std::string, double>> result;
  for (int i = 0; i < kPhaseCount; ++i) result.emplace_back(kPhaseNames[i], impl->timings[i]);
  return result;
}

size_t TrainWorkspace::n_bytes() const {
  return impl->f32.n_bytes() + impl->f64.n_bytes();
}

std::unique_ptr<TrainWorkspace> make_train_workspace() {
  return std::make_unique<TrainWorkspace>();
}

template <typename T>
double forward_backward_generic(const ModelParams& layout, std::span<const T> values,
                                std::span<const int32_t> tokens, int64_t batch, int64_t seq_len,
                                std::span<T> grads, T grad_scale, QuantizeMode quantize,
                                std::span<T> logits_out, TrainWorkspace& workspace) {
  using namespace train;
  const BitLlamaConfig& c = layout.config;
  const int64_t V = c.vocab_size, D = c.hidden_dim, N = c.num_layers, I = c.intermediate_dim,
                d = c.ttt_dim;
  if (batch < 1 || seq_len < 1)
    fail("training batch must have at least 1 sequence of at least 1 token, got ", batch, " x ",
         seq_len);
  const int64_t R = batch * seq_len;
  if (static_cast<int64_t>(tokens.size()) != R)
    fail("training batch of ", batch, " x ", seq_len, " needs ", R, " tokens, got ", tokens.size());
  if (values.size() != layout.values.size())
    fail("parameter buffer holds ", values.size(), " values, the model has ", layout.values.size());
  const bool backward = !grads.empty();
  if (backward && grads.size() != layout.values.size())
    fail("gradient buffer holds ", grads.size(), " values, the model has ", layout.values.size());
  if (!logits_out.empty() && static_cast<int64_t>(logits_out.size()) < R * V)
    fail("logits buffer holds ", logits_out.size(), " values, need ", R * V);
  for (int32_t id : tokens)
    if (id < 0 || id >= V) fail("token id ", id, " is outside the model's vocabulary [0, ", V, ")");

  use_single_threaded_blas();
  const int n_slots = default_thread_pool().n_threads();
  const bool ste = quantize == QuantizeMode::ste;
  const bool int8 = ste && c.activation_quant == ActivationQuant::int8;
  const T eps = static_cast<T>(c.rms_norm_eps);
  const T eta = static_cast<T>(c.inner_lr);
  const T feature_eps = static_cast<T>(kTttFeatureEps);
  auto& timings = workspace.impl->timings;
  timings.fill(0.0);
  PassBuffers<T>& s = workspace.impl->buffers(static_cast<T*>(nullptr));

  // ---- Size the buffers (grow only).
  const int64_t linear_sizes[kLinearsPerLayer] = {d * D, D * d, I * D, I * D, D * I};
  int64_t linear_total = 0;
  for (int64_t size : linear_sizes) linear_total += size;
  const int64_t head_rows = std::min(R, kHeadChunkRows);
  if (ste) {
    grow(s.codes, N * linear_total);
    grow(s.codes_i8, N * linear_total);
  }
  for (std::vector<T>* buffer : {&s.h_in, &s.a1, &s.h_mid, &s.a3}) grow(*buffer, N * R * D);
  for (std::vector<T>* buffer : {&s.f, &s.a2}) grow(*buffer, N * R * d);
  for (std::vector<T>* buffer : {&s.gate, &s.up, &s.a4}) grow(*buffer, N * R * I);
  for (std::vector<T>* buffer : {&s.rstd1, &s.k_norm, &s.rstd2}) grow(*buffer, N * R);
  for (std::vector<T>* buffer : {&s.h_final, &s.hn, &s.o}) grow(*buffer, R * D);
  grow(s.rstd_f, R);
  grow(s.k, R * d);
  grow(s.gamma, R);
  grow(s.losses, R);
  grow(s.targets, R);
  grow(s.logits, head_rows * V);
  if (int8) {
    grow(s.xq, R * std::max(D, I));
    grow(s.xq_i8, R * std::max(D, I));
  }
  grow(s.scan, backward ? ttt_scan_backward_scratch_size(seq_len, d, n_slots)
                        : ttt_scan_forward_scratch_size(d, n_slots));
  if (backward) {
    for (std::vector<T>* buffer : {&s.dh, &s.d_norm, &s.d_tmp, &s.d_hn}) grow(*buffer, R * D);
    for (std::vector<T>* buffer : {&s.d_big1, &s.d_big2}) grow(*buffer, R * I);
    for (std::vector<T>* buffer : {&s.d_p, &s.d_f, &s.d_k}) grow(*buffer, R * d);
  }

  // ---- Parameters, gradients and the BitLinear weights of this step.
  find_offsets(layout, s.layers);
  auto param = [&](const char* name) -> const T* {
    return values.data() + layout.entry(name).offset;
  };
  auto grad = [&](const char* name) { return grads.data() + layout.entry(name).offset; };
  const int64_t linear_n_out[kLinearsPerLayer] = {d, D, I, I, D};
  s.weights.resize(static_cast<size_t>(N * kLinearsPerLayer));
  s.code_offsets.resize(s.weights.size());
  {
    PhaseTimer timer(timings, kQuantizeWeights);
    int64_t offset = 0;
    for (int64_t l = 0; l < N; ++l)
      for (int j = 0; j < kLinearsPerLayer; ++j) {
        const size_t index = static_cast<size_t>(l * kLinearsPerLayer + j);
        s.code_offsets[index] = offset;
        offset += linear_sizes[j];
        BitLinearWeight<T>& w = s.weights[index];
        w.n_out = linear_n_out[j];
        w.n_in = linear_sizes[j] / w.n_out;
        w.values = values.data() + s.layers[static_cast<size_t>(l)].linear[static_cast<size_t>(j)];
        w.scale = 1;
      }
    if (ste) {
      // Quantize once per pass (each tensor's β is a sum over the whole tensor, so
      // tensors, not rows, are the unit of parallel work).
      default_thread_pool().parallel_for(
          static_cast<int64_t>(s.weights.size()), 1, [&](int64_t begin, int64_t end) {
            for (int64_t index = begin; index < end; ++index) {
              BitLinearWeight<T>& w = s.weights[static_cast<size_t>(index)];
              const int64_t codes_at = s.code_offsets[static_cast<size_t>(index)];
              T* codes = s.codes.data() + codes_at;
              w.scale = ternary_quantize_weight(codes, w.values, w.n_out * w.n_in,
                                                s.codes_i8.data() + codes_at);
              w.values = codes;
            }
          });
    }
  }
  auto weight = [&](int64_t l, int j) -> const BitLinearWeight<T>& {
    return s.weights[static_cast<size_t>(l * kLinearsPerLayer + j)];
  };
  auto per_layer = [&](std::vector<T>& buffer, int64_t l, int64_t width) {
    return buffer.data() + l * R * width;
  };
  // x (saved, [R, n_in]) → x~ in place (int8 mode); the operand the forward GEMM uses.
  auto quantize_input = [&](T* x, int64_t n_in) -> const T* {
    if (!int8) return x;
    PhaseTimer timer(timings, kQuantizeActivations);
    int8_quantize_activations(x, s.xq.data(), s.gamma.data(), x, R, n_in, s.xq_i8.data());
    return s.xq.data();
  };
  auto linear_forward = [&](T* out, const T* operand, const BitLinearWeight<T>& w) {
    PhaseTimer timer(timings, kLinearForward);
    bit_linear_forward(out, operand, int8 ? s.gamma.data() : nullptr, w, R);
  };
  auto add_rows = [&](T* out, const T* a, const T* b, int64_t n) {
    PhaseTimer timer(timings, kResidual);
    default_thread_pool().parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
    });
  };

  // ---- Forward.
  {
    PhaseTimer timer(timings, kEmbedding);
    embedding_forward(N > 0 ? s.h_in.data() : s.h_final.data(), param("embed.weight"),
                      tokens.data(), R, D);
  }
  for (int64_t l = 0; l < N; ++l) {
    const LayerOffsets& offsets = s.layers[static_cast<size_t>(l)];
    const T* norm1 = values.data() + offsets.norm1;
    const T* norm2 = values.data() + offsets.norm2;
    T* h_in = per_layer(s.h_in, l, D);
    T* a1 = per_layer(s.a1, l, D);
    T* f = per_layer(s.f, l, d);
    T* a2 = per_layer(s.a2, l, d);
    T* h_mid = per_layer(s.h_mid, l, D);
    T* a3 = per_layer(s.a3, l, D);
    T* gate = per_layer(s.gate, l, I);
    T* up = per_layer(s.up, l, I);
    T* a4 = per_layer(s.a4, l, I);
    T* h_out = l + 1 < N ? per_layer(s.h_in, l + 1, D) : s.h_final.data();

    // h = h + TTT(RMSNorm(h; norm1))
    {
      PhaseTimer timer(timings, kNorms);
      rms_norm_forward(a1, per_layer(s.rstd1, l, 1), h_in, norm1, R, D, eps);
    }
    linear_forward(s.k.data(), quantize_input(a1, D), weight(l, 0));
    {
      PhaseTimer timer(timings, kNorms);
      l2_normalize_forward(f, per_layer(s.k_norm, l, 1), s.k.data(), R, d, feature_eps);
    }
    {
      PhaseTimer timer(timings, kScanForward);
      ttt_scan_forward(a2, f, batch, seq_len, d, eta, s.scan.data(), n_slots);
    }
    linear_forward(s.o.data(), quantize_input(a2, d), weight(l, 1));
    add_rows(h_mid, h_in, s.o.data(), R * D);

    // h = h + SwiGLU(RMSNorm(h; norm2)); gate and up share one quantized input.
    {
      PhaseTimer timer(timings, kNorms);
      rms_norm_forward(a3, per_layer(s.rstd2, l, 1), h_mid, norm2, R, D, eps);
    }
    const T* a3_operand = quantize_input(a3, D);
    linear_forward(gate, a3_operand, weight(l, 2));
    linear_forward(up, a3_operand, weight(l, 3));
    {
      PhaseTimer timer(timings, kSwiglu);
      swiglu_forward(a4, gate, up, R * I);
    }
    linear_forward(s.o.data(), quantize_input(a4, I), weight(l, 4));
    add_rows(h_out, h_mid, s.o.data(), R * D);
  }
  {
    PhaseTimer timer(timings, kNorms);
    rms_norm_forward(s.hn.data(), s.rstd_f.data(), s.h_final.data(), param("norm_f.weight"), R, D,
                     eps);
  }

  // ---- Head and loss, chunk by chunk; the head's backward runs on each chunk while
  // its logits are in cache.
  for (int64_t r = 0; r < R; ++r)
    s.targets[static_cast<size_t>(r)] =
        r % seq_len + 1 < seq_len ? tokens[static_cast<size_t>(r + 1)] : -1;
  const int64_t n_targets = batch * (seq_len - 1);
  const T d_loss = n_targets > 0 ? grad_scale / static_cast<T>(n_targets) : T(0);
  const T* head = param("lm_head.weight");
  double loss_sum = 0.0;
  for (int64_t first = 0; first < R; first += head_rows) {
    const int64_t rows = std::min(head_rows, R - first);
    const T* hn_chunk = s.hn.data() + first * D;
    T* chunk_logits = s.logits.data();
    {
      PhaseTimer timer(timings, kHeadForward);
      gemm_nt(chunk_logits, hn_chunk, head, rows, V, D, T(1), T(0));
      if (!logits_out.empty())
        std::copy(chunk_logits, chunk_logits + rows * V, logits_out.data() + first * V);
    }
    {
      PhaseTimer timer(timings, kCrossEntropy);
      T* losses = s.losses.data() + first;
      const int32_t* targets = s.targets.data() + first;
      if (backward)
        cross_entropy_forward_backward(chunk_logits, losses, chunk_logits, targets, d_loss, rows,
                                       V);
      else
        cross_entropy_forward(chunk_logits, losses, chunk_logits, targets, rows, V);
      for (int64_t r = 0; r < rows; ++r) loss_sum += static_cast<double>(losses[r]);
    }
    if (backward) {
      PhaseTimer timer(timings, kHeadBackward);
      gemm_nn(s.d_hn.data() + first * D, chunk_logits, head, rows, D, V, T(1), T(0));
      gemm_tn(grad("lm_head.weight"), chunk_logits, hn_chunk, V, D, rows, T(1), T(1));
    }
  }
  const double loss = n_targets > 0 ? loss_sum / static_cast<double>(n_targets) : 0.0;
  if (!backward) return loss;

  // ---- Backward. dh = ∂L/∂h of the residual stream at the current point.
  T* dh = s.dh.data();
  {
    PhaseTimer timer(timings, kNorms);
    rms_norm_backward(dh, grad("norm_f.weight"), s.d_hn.data(), s.h_final.data(),
                      param("norm_f.weight"), s.rstd_f.data(), R, D);
  }
  auto linear_backward = [&](T* d_in, T* d_weight, const T* d_out, const T* x_tilde,
                             const BitLinearWeight<T>& w, bool accumulate) {
    PhaseTimer timer(timings, kLinearBackward);
    bit_linear_backward(d_in, d_weight, d_out, x_tilde, w, R, accumulate);
  };
  auto add_into = [&](T* acc, const T* delta, int64_t n) {
    PhaseTimer timer(timings, kResidual);
    default_thread_pool().parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) acc[i] += delta[i];
    });
  };
  for (int64_t l = N - 1; l >= 0; --l) {
    const LayerOffsets& offsets = s.layers[static_cast<size_t>(l)];
    const T* norm1 = values.data() + offsets.norm1;
    const T* norm2 = values.data() + offsets.norm2;
    auto linear_grad = [&](int j) { return grads.data() + offsets.linear[static_cast<size_t>(j)]; };
    // MLP: h_out = h_mid + down(a4), a4 = silu(gate)⊙up, gate/up = (a3 · W~ᵀ).
    T* d_gate = s.d_big1.data();
    T* d_up = s.d_big2.data();
    linear_backward(d_gate, linear_grad(4), dh, per_layer(s.a4, l, I), weight(l, 4), false);
    {
      PhaseTimer timer(timings, kSwigluBackward);
      swiglu_backward(d_gate, d_up, d_gate, per_layer(s.gate, l, I), per_layer(s.up, l, I), R * I);
    }
    linear_backward(s.d_norm.data(), linear_grad(2), d_gate, per_layer(s.a3, l, D), weight(l, 2),
                    false);
    linear_backward(s.d_norm.data(), linear_grad(3), d_up, per_layer(s.a3, l, D), weight(l, 3),
                    true);
    {
      PhaseTimer timer(timings, kNorms);
      rms_norm_backward(s.d_tmp.data(), grads.data() + offsets.norm2, s.d_norm.data(),
                        per_layer(s.h_mid, l, D), norm2, per_layer(s.rstd2, l, 1), R, D);
    }
    add_into(dh, s.d_tmp.data(), R * D);

    // TTT: h_mid = h_in + up(p~), p = scan(f), f = k/(‖k‖+ε), k = a1 · W~ᵀ.
    linear_backward(s.d_p.data(), linear_grad(1), dh, per_layer(s.a2, l, d), weight(l, 1), false);
    {
      PhaseTimer timer(timings, kScanBackward);
      ttt_scan_backward(s.d_f.data(), s.d_p.data(), per_layer(s.f, l, d), batch, seq_len, d, eta,
                        s.scan.data(), n_slots);
    }
    {
      PhaseTimer timer(timings, kNorms);
      l2_normalize_backward(s.d_k.data(), s.d_f.data(), per_layer(s.f, l, d),
                            per_layer(s.k_norm, l, 1), R, d, feature_eps);
    }
    linear_backward(s.d_norm.data(), linear_grad(0), s.d_k.data(), per_layer(s.a1, l, D),
                    weight(l, 0), false);
    {
      PhaseTimer timer(timings, kNorms);
      rms_norm_backward(s.d_tmp.data(), grads.data() + offsets.norm1, s.d_norm.data(),
                        per_layer(s.h_in, l, D), norm1, per_layer(s.rstd1, l, 1), R, D);
    }
    add_into(dh, s.d_tmp.data(), R * D);
  }
  {
    PhaseTimer timer(timings, kEmbedding);
    embedding_backward(grad("embed.weight"), dh, tokens.data(), R, D);
  }
  return loss;
}

template double forward_backward_generic<float>(const ModelParams&, std::span<const float>,
                                                std::span<const int32_t>, int64_t, int64_t,
                                                std::span<float>, float, QuantizeMode,
                                                std::span<float>, TrainWorkspace&);
template double forward_backward_generic<double>(const ModelParams&, std::span<const double>,
                                                 std::span<const int32_t>, int64_t, int64_t,
                                                 std::span<double>, double, QuantizeMode,
                                                 std::span<double>, TrainWorkspace&);

double forward_backward(const ModelParams& params, std::span<const int32_t> tokens, int64_t batch,
                        int64_t seq_len, ModelParams* grads, TrainWorkspace& workspace,
                        float grad_scale) {
  if (seq_len < 2)
    fail("training needs sequences of at least 2 tokens (a token and its target), got ", seq_len);
  std::span<float> grad_values;
  if (grads != nullptr) {
    if (!grads->config.same_shape(params.config) || grads->values.size() != params.values.size())
      fail("gradient buffer is for model ", grads->config.shape_string(), ", parameters are ",
           params.config.shape_string());
    grad_values = grads->values;
  }
  return forward_backward_generic<float>(params, params.values, tokens, batch, seq_len, grad_values,
                                         grad_scale, QuantizeMode::ste, {}, workspace);
}

double forward_logits(const ModelParams& params, std::span<const int32_t> tokens, int64_t batch,
                      int64_t seq_len, std::span<float> logits, TrainWorkspace& workspace) {
  if (static_cast<int64_t>(logits.size()) < batch * seq_len * params.config.vocab_size)
    fail("logits buffer holds ", logits.size(), " values, need ",
         batch * seq_len * params.config.vocab_size);
  return forward_backward_generic<float>(params, params.values, tokens, batch, seq_len, {}, 1.0f,
                                         QuantizeMode::ste, logits, workspace);
}

}  // namespace bit_ttt
