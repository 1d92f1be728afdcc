// The training pass: forward over a batch, mean next-token cross-entropy, and the
// exact backward of MODEL_SPEC.md §4 (STE through the quantizers, backpropagation
// through every TTT state).
//
// Layout of a pass over B sequences of T tokens: every matmul runs once over all
// R = B·T rows (OpenBLAS, split over the thread pool, see ops_blas.h); only the
// d×d TTT scan is sequential, per sequence, with sequences in parallel. The LM head
// and the loss run over chunks of rows so the [R, V] logits never exist at once.
// Ops and their shapes: ops_*.h.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "train/params.h"

namespace bit_ttt {

// How BitLinear treats weights and activations in a pass.
enum class QuantizeMode {
  ste,       // the model: ternary weights (and int8 activations when the config says
             // so) forward, straight-through estimator backward
  identity,  // W~ = W and x~ = x: the same graph made smooth, so finite differences
             // check the backward end to end (gradient tests only)
};

// Saved activations and scratch of a pass. Buffers grow to the largest batch shape
// seen and are reused: once sized, a step allocates nothing.
struct TrainWorkspace {
  TrainWorkspace();
  ~TrainWorkspace();
  TrainWorkspace(const TrainWorkspace&) = delete;
  TrainWorkspace& operator=(const TrainWorkspace&) = delete;

  // Seconds per phase of the last pass (name, seconds), for profiling.
  std::vector<std::pair<std::string, double>> last_timings() const;
  // Bytes held by the buffers.
  size_t n_bytes() const;

  struct Impl;
  std::unique_ptr<Impl> impl;
};
std::unique_ptr<TrainWorkspace> make_train_workspace();

// tokens: B sequences of T tokens (row-major); each sequence starts from S_0 = 0.
// Returns the mean cross-entropy over the B·(T−1) positions that have a target
// (logits_t against tokens_{t+1}). If grads != nullptr, ACCUMULATES (+=)
// grad_scale · ∂loss/∂param into grads (same layout as params).
double forward_backward(const ModelParams& params, std::span<const int32_t> tokens, int64_t batch,
                        int64_t seq_len, ModelParams* grads, TrainWorkspace& workspace,
                        float grad_scale = 1.0f);

// The training forward's logits [B·T, V] (row b·T + t) and the loss, for comparing
// with BitLlama::forward. T may be 1 (then the loss is 0: no position has a target).
double forward_logits(const ModelParams& params, std::span<const int32_t> tokens, int64_t batch,
                      int64_t seq_len, std::span<float> logits, TrainWorkspace& workspace);

// The same pass for any scalar type and quantize mode: forward_backward is the float
// STE instance; the gradient checks run the double instances. `values` and `grads`
// follow `layout`'s entries (its own values are not read); empty grads = forward
// only; non-empty logits (R·V values) receive the logits.
template <typename T>
double forward_backward_generic(const ModelParams& layout, std::span<const T> values,
                                std::span<const int32_t> tokens, int64_t batch, int64_t seq_len,
                                std::span<T> grads, T grad_scale, QuantizeMode quantize,
                                std::span<T> logits, TrainWorkspace& workspace);

extern template double forward_backward_generic<float>(const ModelParams&, std::span<const float>,
                                                       std::span<const int32_t>, int64_t, int64_t,
                                                       std::span<float>, float, QuantizeMode,
                                                       std::span<float>, TrainWorkspace&);
extern template double forward_backward_generic<double>(const ModelParams&, std::span<const double>,
                                                        std::span<const int32_t>, int64_t, int64_t,
                                                        std::span<double>, double, QuantizeMode,
                                                        std::span<double>, TrainWorkspace&);

}  // namespace bit_ttt
