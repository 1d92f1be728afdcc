// The training pass on the CPU: the policy of train/pass.h over host memory
// (OpenBLAS GEMMs split over the thread pool, the ops of train/ops_*.h), for float
// (the trainer) and double (the gradient checks).
#include "train/forward_backward.h"

#include <algorithm>
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
#include "train/pass.h"

namespace bit_ttt {
namespace train {

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

void check_training_sequence_length(int64_t seq_len) {
  if (seq_len < 2)
    fail("training needs sequences of at least 2 tokens (a token and its target), got ", seq_len);
}

void check_pass_arguments(const ModelParams& layout, size_t n_values,
                          std::span<const int32_t> tokens, int64_t batch, int64_t seq_len,
                          size_t n_grads, size_t n_logits) {
  const int64_t V = layout.config.vocab_size;
  if (batch < 1 || seq_len < 1)
    fail("training batch must have at least 1 sequence of at least 1 token, got ", batch, " x ",
         seq_len);
  const int64_t R = batch * seq_len;
  if (static_cast<int64_t>(tokens.size()) != R)
    fail("training batch of ", batch, " x ", seq_len, " needs ", R, " tokens, got ", tokens.size());
  if (n_values != layout.values.size())
    fail("parameter buffer holds ", n_values, " values, the model has ", layout.values.size());
  if (n_grads != 0 && n_grads != layout.values.size())
    fail("gradient buffer holds ", n_grads, " values, the model has ", layout.values.size());
  if (n_logits != 0 && static_cast<int64_t>(n_logits) < R * V)
    fail("logits buffer holds ", n_logits, " values, need ", R * V);
  for (int32_t id : tokens)
    if (id < 0 || id >= V) fail("token id ", id, " is outside the model's vocabulary [0, ", V, ")");
}

}  // namespace train

namespace {

// Host memory, OpenBLAS and the thread pool: the ops of train/ops_*.h.
template <typename T>
struct CpuPassOps {
  template <typename U>
  using Buffer = std::vector<U>;

  int n_slots = default_thread_pool().n_threads();

  template <typename U>
  void grow(std::vector<U>& buffer, int64_t n) {
    if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
  }
  const int32_t* ids(std::span<const int32_t> host, std::vector<int32_t>&) { return host.data(); }
  int64_t scan_scratch_size(bool backward, int64_t, int64_t seq_len, int64_t d) const {
    return backward ? train::ttt_scan_backward_scratch_size(seq_len, d, n_slots)
                    : train::ttt_scan_forward_scratch_size(d, n_slots);
  }

  // Quantize once per pass (each tensor's β is a sum over the whole tensor, so
  // tensors, not rows, are the unit of parallel work).
  void quantize_weights(std::vector<train::BitLinearWeight<T>>& weights,
                        const std::vector<int64_t>& code_offsets, T* codes, int8_t* codes_i8) {
    default_thread_pool().parallel_for(
        static_cast<int64_t>(weights.size()), 1, [&](int64_t begin, int64_t end) {
          for (int64_t index = begin; index < end; ++index) {
            train::BitLinearWeight<T>& w = weights[static_cast<size_t>(index)];
            const int64_t at = code_offsets[static_cast<size_t>(index)];
            w.scale = train::ternary_quantize_weight(codes + at, w.values, w.n_out * w.n_in,
                                                     codes_i8 + at);
            w.values = codes + at;
          }
        });
  }
  void int8_quantize_activations(T* x_tilde, T* xq, T* gamma, const T* in, int64_t rows,
                                 int64_t cols, int8_t* scratch) {
    train::int8_quantize_activations(x_tilde, xq, gamma, in, rows, cols, scratch);
  }
  void bit_linear_forward(T* out, const T* in, const T* gamma, const train::BitLinearWeight<T>& w,
                          int64_t rows) {
    train::bit_linear_forward(out, in, gamma, w, rows);
  }
  void bit_linear_backward(T* d_in, T* d_weight, const T* d_out, const T* x_tilde,
                           const train::BitLinearWeight<T>& w, int64_t rows, bool accumulate) {
    train::bit_linear_backward(d_in, d_weight, d_out, x_tilde, w, rows, accumulate);
  }
  void rms_norm_forward(T* out, T* rstd, const T* in, const T* weight, int64_t rows, int64_t dim,
                        T eps) {
    train::rms_norm_forward(out, rstd, in, weight, rows, dim, eps);
  }
  void rms_norm_backward(T* d_in, T* d_weight, const T* d_out, const T* in, const T* weight,
                         const T* rstd, int64_t rows, int64_t dim) {
    train::rms_norm_backward(d_in, d_weight, d_out, in, weight, rstd, rows, dim);
  }
  void l2_normalize_forward(T* out, T* norm, const T* in, int64_t rows, int64_t dim, T eps) {
    train::l2_normalize_forward(out, norm, in, rows, dim, eps);
  }
  void l2_normalize_backward(T* d_in, const T* d_out, const T* out, const T* norm, int64_t rows,
                             int64_t dim, T eps) {
    train::l2_normalize_backward(d_in, d_out, out, norm, rows, dim, eps);
  }
  void ttt_scan_forward(T* p, const T* f, int64_t n_seqs, int64_t seq_len, int64_t d, T eta,
                        T* scratch) {
    train::ttt_scan_forward(p, f, n_seqs, seq_len, d, eta, scratch, n_slots);
  }
  void ttt_scan_backward(T* d_f, const T* d_p, const T* f, int64_t n_seqs, int64_t seq_len,
                         int64_t d, T eta, T* scratch) {
    train::ttt_scan_backward(d_f, d_p, f, n_seqs, seq_len, d, eta, scratch, n_slots);
  }
  void swiglu_forward(T* out, const T* gate, const T* up, int64_t n) {
    train::swiglu_forward(out, gate, up, n);
  }
  void swiglu_backward(T* d_gate, T* d_up, const T* d_out, const T* gate, const T* up, int64_t n) {
    train::swiglu_backward(d_gate, d_up, d_out, gate, up, n);
  }
  void add_rows(T* out, const T* a, const T* b, int64_t n) {
    default_thread_pool().parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
    });
  }
  void add_into(T* accumulator, const T* delta, int64_t n) {
    default_thread_pool().parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) accumulator[i] += delta[i];
    });
  }
  void embedding_forward(T* out, const T* table, const int32_t* tokens, int64_t rows, int64_t dim) {
    train::embedding_forward(out, table, tokens, rows, dim);
  }
  void embedding_backward(T* d_table, const T* d_out, const int32_t* tokens, int64_t rows,
                          int64_t dim) {
    train::embedding_backward(d_table, d_out, tokens, rows, dim);
  }
  void gemm_nt(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta) {
    train::gemm_nt(out, a, b, m, n, k, alpha, beta);
  }
  void gemm_nn(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta) {
    train::gemm_nn(out, a, b, m, n, k, alpha, beta);
  }
  void gemm_tn(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta) {
    train::gemm_tn(out, a, b, m, n, k, alpha, beta);
  }
  void cross_entropy(T* d_logits, T* losses, const T* logits, const int32_t* targets, T d_loss,
                     bool backward, int64_t rows, int64_t vocab) {
    if (backward)
      train::cross_entropy_forward_backward(d_logits, losses, logits, targets, d_loss, rows, vocab);
    else
      train::cross_entropy_forward(d_logits, losses, logits, targets, rows, vocab);
  }
  void copy_to_host(T* host, const T* values, int64_t n) { std::copy(values, values + n, host); }
  double sum(const T* values, int64_t n) const {
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) total += static_cast<double>(values[i]);
    return total;
  }
};

}  // namespace

struct TrainWorkspace::Impl {
  train::PassBuffers<float, CpuPassOps<float>> f32;
  train::PassBuffers<double, CpuPassOps<double>> f64;
  train::PhaseTimes timings{};

  auto& buffers(float*) { return f32; }
  auto& buffers(double*) { return f64; }
};

TrainWorkspace::TrainWorkspace() : impl(std::make_unique<Impl>()) {}
TrainWorkspace::~TrainWorkspace() = default;

std::vector<std::pair<std::string, double>> TrainWorkspace::last_timings() const {
  std::vector<std::pair<std::string, double>> result;
  for (int i = 0; i < train::kPhaseCount; ++i)
    result.emplace_back(train::kPhaseNames[i], impl->timings[i]);
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
  train::check_pass_arguments(layout, values.size(), tokens, batch, seq_len, grads.size(),
                              logits_out.size());
  train::use_single_threaded_blas();
  CpuPassOps<T> ops;
  return train::run_pass(ops, workspace.impl->buffers(static_cast<T*>(nullptr)),
                         workspace.impl->timings, layout, values.data(), tokens, batch, seq_len,
                         grads.empty() ? nullptr : grads.data(), grad_scale, quantize, logits_out);
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
  train::check_training_sequence_length(seq_len);
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
