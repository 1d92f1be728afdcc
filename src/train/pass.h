// The training pass over R = B·T rows, written once over an `Ops` policy that says
// where the numbers live and which kernels compute them: CpuPassOps<T>
// (forward_backward.cc: host memory, OpenBLAS and the thread pool, float and
// double) and CudaPassOps (train/cuda: device memory, cuBLAS and the kernels of
// kernels/cuda/train_kernels.h, float). Shapes per block (D hidden, d TTT,
// I MLP, V vocab):
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
//
// An Ops policy provides Buffer<U> (data(), capacity()), grow(buffer, n), ids()
// (token ids where its kernels read them), quantize_weights, the ops of
// train/ops_*.h under the same names, add_rows/add_into, cross_entropy,
// copy_to_host and sum. Parameter and gradient pointers are the policy's own
// memory; tokens, targets and logits_out are host memory.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bit_ttt/error.h"
#include "train/forward_backward.h"
#include "train/ops_bit_linear.h"
#include "train/params.h"

namespace bit_ttt::train {

// Normalisation epsilon of the TTT feature, f = k / (‖k‖ + 1e-6), spec §3.
inline constexpr double kTttFeatureEps = 1e-6;
// Rows of logits alive at once in the head: [256, V] floats is 16 MB at V 16384.
inline constexpr int64_t kHeadChunkRows = 256;
// BitLinear tensors per block: ttt.down, ttt.up, gate_proj, up_proj, down_proj.
inline constexpr int kLinearsPerLayer = 5;

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
inline constexpr std::array<const char*, kPhaseCount> kPhaseNames = {
    "quantize_weights", "embedding",    "norms",         "quantize_activations",
    "linear_forward",   "scan_forward", "swiglu",        "swiglu_backward",
    "residual",         "head_forward", "cross_entropy", "head_backward",
    "linear_backward",  "scan_backward"};
using PhaseTimes = std::array<double, kPhaseCount>;

// Adds the lifetime of the object to one phase's total (on a GPU: the time to
// enqueue the phase's work, unless something in it waits for the device).
class PhaseTimer {
 public:
  PhaseTimer(PhaseTimes& totals, Phase phase)
      : totals_(totals), phase_(phase), start_(std::chrono::steady_clock::now()) {}
  ~PhaseTimer() {
    totals_[phase_] +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  PhaseTimes& totals_;
  Phase phase_;
  std::chrono::steady_clock::time_point start_;
};

// Where one block's tensors start in a parameter (or gradient) buffer.
struct LayerOffsets {
  size_t norm1 = 0, norm2 = 0;
  std::array<size_t, kLinearsPerLayer> linear{};  // ttt.down, ttt.up, gate, up, down
};

// Offsets of every tensor, found by position in model_tensor_specs order and checked
// by name suffix (no strings built, so a step allocates nothing once sized).
void find_offsets(const ModelParams& layout, std::vector<LayerOffsets>& layers);

// The trainer's passes (forward_backward, a TrainDevice) need a target per
// sequence: fails unless seq_len >= 2.
void check_training_sequence_length(int64_t seq_len);

// Checks a pass's arguments against the model; fails with a message naming the
// mismatch. n_values / n_grads / n_logits are the buffers' sizes (0: absent).
void check_pass_arguments(const ModelParams& layout, size_t n_values,
                          std::span<const int32_t> tokens, int64_t batch, int64_t seq_len,
                          size_t n_grads, size_t n_logits);

// Everything a pass over R rows keeps or reuses, for one scalar type and policy.
// Per-layer buffers hold N blocks of [R, width] back to back. Buffers grow to the
// largest shape seen and are reused: once sized, a pass allocates nothing.
template <typename T, typename Ops>
struct PassBuffers {
  template <typename U>
  using Buffer = typename Ops::template Buffer<U>;
  // Ternary codes (as T) of every BitLinear weight, 5 per layer.
  Buffer<T> codes;
  Buffer<int8_t> codes_i8;
  // Saved for the backward, per layer. a1..a4 are the BitLinear inputs: the
  // normalised / scanned / gated activations, replaced by x~ in int8 mode.
  Buffer<T> h_in, rstd1, a1, f, k_norm, a2, h_mid, rstd2, a3, gate, up, a4;
  Buffer<T> h_final, rstd_f, hn;
  // Scratch.
  Buffer<T> k, o, xq, gamma, logits, losses, scan;
  Buffer<int8_t> xq_i8;
  Buffer<int32_t> token_ids, targets;
  std::vector<int32_t> host_targets;
  // Backward.
  Buffer<T> dh, d_norm, d_tmp, d_hn, d_big1, d_big2, d_p, d_f, d_k;
  // Per pass: tensor offsets, and W~ of every BitLinear (weights[l·5 + j]) with the
  // offset of its codes.
  std::vector<LayerOffsets> layers;
  std::vector<BitLinearWeight<T>> weights;
  std::vector<int64_t> code_offsets;

  size_t n_bytes() const {
    size_t total = codes_i8.capacity() + xq_i8.capacity() +
                   4 * (token_ids.capacity() + targets.capacity() + host_targets.capacity());
    for (const Buffer<T>* v : {&codes,  &h_in,  &rstd1, &a1,     &f,      &k_norm,  &a2,     &h_mid,
                               &rstd2,  &a3,    &gate,  &up,     &a4,     &h_final, &rstd_f, &hn,
                               &k,      &o,     &xq,    &gamma,  &logits, &losses,  &scan,   &dh,
                               &d_norm, &d_tmp, &d_hn,  &d_big1, &d_big2, &d_p,     &d_f,    &d_k})
      total += sizeof(T) * v->capacity();
    return total;
  }
};

// The pass: returns the mean cross-entropy over the B·(T−1) positions with a
// target; grads != nullptr accumulates grad_scale·∂loss/∂param into it; non-empty
// logits_out (host, R·V) receives the logits.
template <typename T, typename Ops>
double run_pass(Ops& ops, PassBuffers<T, Ops>& s, PhaseTimes& timings, const ModelParams& layout,
                const T* values, std::span<const int32_t> tokens, int64_t batch, int64_t seq_len,
                T* grads, T grad_scale, QuantizeMode quantize, std::span<T> logits_out) {
  const BitLlamaConfig& c = layout.config;
  const int64_t V = c.vocab_size, D = c.hidden_dim, N = c.num_layers, I = c.intermediate_dim,
                d = c.ttt_dim;
  const int64_t R = batch * seq_len;
  const bool backward = grads != nullptr;
  const bool ste = quantize == QuantizeMode::ste;
  const bool int8 = ste && c.activation_quant == ActivationQuant::int8;
  const T eps = static_cast<T>(c.rms_norm_eps);
  const T eta = static_cast<T>(c.inner_lr);
  const T feature_eps = static_cast<T>(kTttFeatureEps);
  timings.fill(0.0);

  // ---- Size the buffers (grow only).
  const int64_t linear_sizes[kLinearsPerLayer] = {d * D, D * d, I * D, I * D, D * I};
  int64_t linear_total = 0;
  for (int64_t size : linear_sizes) linear_total += size;
  const int64_t head_rows = std::min(R, kHeadChunkRows);
  if (ste) {
    ops.grow(s.codes, N * linear_total);
    ops.grow(s.codes_i8, N * linear_total);
  }
  for (auto* buffer : {&s.h_in, &s.a1, &s.h_mid, &s.a3}) ops.grow(*buffer, N * R * D);
  for (auto* buffer : {&s.f, &s.a2}) ops.grow(*buffer, N * R * d);
  for (auto* buffer : {&s.gate, &s.up, &s.a4}) ops.grow(*buffer, N * R * I);
  for (auto* buffer : {&s.rstd1, &s.k_norm, &s.rstd2}) ops.grow(*buffer, N * R);
  for (auto* buffer : {&s.h_final, &s.hn, &s.o}) ops.grow(*buffer, R * D);
  ops.grow(s.rstd_f, R);
  ops.grow(s.k, R * d);
  ops.grow(s.gamma, R);
  ops.grow(s.losses, R);
  ops.grow(s.logits, head_rows * V);
  if (int8) {
    ops.grow(s.xq, R * std::max(D, I));
    ops.grow(s.xq_i8, R * std::max(D, I));
  }
  ops.grow(s.scan, ops.scan_scratch_size(backward, batch, seq_len, d));
  if (backward) {
    for (auto* buffer : {&s.dh, &s.d_norm, &s.d_tmp, &s.d_hn}) ops.grow(*buffer, R * D);
    for (auto* buffer : {&s.d_big1, &s.d_big2}) ops.grow(*buffer, R * I);
    for (auto* buffer : {&s.d_p, &s.d_f, &s.d_k}) ops.grow(*buffer, R * d);
  }
  const int32_t* token_ids = ops.ids(tokens, s.token_ids);
  s.host_targets.resize(static_cast<size_t>(R));
  for (int64_t r = 0; r < R; ++r)
    s.host_targets[static_cast<size_t>(r)] =
        r % seq_len + 1 < seq_len ? tokens[static_cast<size_t>(r + 1)] : -1;
  const int32_t* targets = ops.ids(s.host_targets, s.targets);

  // ---- Parameters, gradients and the BitLinear weights of this pass.
  find_offsets(layout, s.layers);
  auto param = [&](const char* name) -> const T* { return values + layout.entry(name).offset; };
  auto grad = [&](const char* name) { return grads + layout.entry(name).offset; };
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
        w.values = values + s.layers[static_cast<size_t>(l)].linear[static_cast<size_t>(j)];
        w.scale = 1;
      }
    // W~ = β·codes for every weight at once (sets each weight's scale and values).
    if (ste) ops.quantize_weights(s.weights, s.code_offsets, s.codes.data(), s.codes_i8.data());
  }
  auto weight = [&](int64_t l, int j) -> const BitLinearWeight<T>& {
    return s.weights[static_cast<size_t>(l * kLinearsPerLayer + j)];
  };
  auto per_layer = [&](auto& buffer, int64_t l, int64_t width) {
    return buffer.data() + l * R * width;
  };
  // x (saved, [R, n_in]) → x~ in place (int8 mode); the operand the forward GEMM uses.
  auto quantize_input = [&](T* x, int64_t n_in) -> const T* {
    if (!int8) return x;
    PhaseTimer timer(timings, kQuantizeActivations);
    ops.int8_quantize_activations(x, s.xq.data(), s.gamma.data(), x, R, n_in, s.xq_i8.data());
    return s.xq.data();
  };
  auto linear_forward = [&](T* out, const T* operand, const BitLinearWeight<T>& w) {
    PhaseTimer timer(timings, kLinearForward);
    ops.bit_linear_forward(out, operand, int8 ? s.gamma.data() : nullptr, w, R);
  };
  auto add_rows = [&](T* out, const T* a, const T* b, int64_t n) {
    PhaseTimer timer(timings, kResidual);
    ops.add_rows(out, a, b, n);
  };

  // ---- Forward.
  {
    PhaseTimer timer(timings, kEmbedding);
    ops.embedding_forward(N > 0 ? s.h_in.data() : s.h_final.data(), param("embed.weight"),
                          token_ids, R, D);
  }
  for (int64_t l = 0; l < N; ++l) {
    const LayerOffsets& offsets = s.layers[static_cast<size_t>(l)];
    const T* norm1 = values + offsets.norm1;
    const T* norm2 = values + offsets.norm2;
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
      ops.rms_norm_forward(a1, per_layer(s.rstd1, l, 1), h_in, norm1, R, D, eps);
    }
    linear_forward(s.k.data(), quantize_input(a1, D), weight(l, 0));
    {
      PhaseTimer timer(timings, kNorms);
      ops.l2_normalize_forward(f, per_layer(s.k_norm, l, 1), s.k.data(), R, d, feature_eps);
    }
    {
      PhaseTimer timer(timings, kScanForward);
      ops.ttt_scan_forward(a2, f, batch, seq_len, d, eta, s.scan.data());
    }
    linear_forward(s.o.data(), quantize_input(a2, d), weight(l, 1));
    add_rows(h_mid, h_in, s.o.data(), R * D);

    // h = h + SwiGLU(RMSNorm(h; norm2)); gate and up share one quantized input.
    {
      PhaseTimer timer(timings, kNorms);
      ops.rms_norm_forward(a3, per_layer(s.rstd2, l, 1), h_mid, norm2, R, D, eps);
    }
    const T* a3_operand = quantize_input(a3, D);
    linear_forward(gate, a3_operand, weight(l, 2));
    linear_forward(up, a3_operand, weight(l, 3));
    {
      PhaseTimer timer(timings, kSwiglu);
      ops.swiglu_forward(a4, gate, up, R * I);
    }
    linear_forward(s.o.data(), quantize_input(a4, I), weight(l, 4));
    add_rows(h_out, h_mid, s.o.data(), R * D);
  }
  {
    PhaseTimer timer(timings, kNorms);
    ops.rms_norm_forward(s.hn.data(), s.rstd_f.data(), s.h_final.data(), param("norm_f.weight"), R,
                         D, eps);
  }

  // ---- Head and loss, chunk by chunk; the head's backward runs on each chunk while
  // its logits are in cache.
  const int64_t n_targets = batch * (seq_len - 1);
  const T d_loss = n_targets > 0 ? grad_scale / static_cast<T>(n_targets) : T(0);
  const T* head = param("lm_head.weight");
  for (int64_t first = 0; first < R; first += head_rows) {
    const int64_t rows = std::min(head_rows, R - first);
    const T* hn_chunk = s.hn.data() + first * D;
    T* chunk_logits = s.logits.data();
    {
      PhaseTimer timer(timings, kHeadForward);
      ops.gemm_nt(chunk_logits, hn_chunk, head, rows, V, D, T(1), T(0));
      if (!logits_out.empty())
        ops.copy_to_host(logits_out.data() + first * V, chunk_logits, rows * V);
    }
    {
      PhaseTimer timer(timings, kCrossEntropy);
      ops.cross_entropy(chunk_logits, s.losses.data() + first, chunk_logits, targets + first,
                        d_loss, backward, rows, V);
    }
    if (backward) {
      PhaseTimer timer(timings, kHeadBackward);
      ops.gemm_nn(s.d_hn.data() + first * D, chunk_logits, head, rows, D, V, T(1), T(0));
      ops.gemm_tn(grad("lm_head.weight"), chunk_logits, hn_chunk, V, D, rows, T(1), T(1));
    }
  }
  // Summed in row order in double, whatever the policy.
  const double loss_sum = ops.sum(s.losses.data(), R);
  const double loss = n_targets > 0 ? loss_sum / static_cast<double>(n_targets) : 0.0;
  if (!backward) return loss;

  // ---- Backward. dh = ∂L/∂h of the residual stream at the current point.
  T* dh = s.dh.data();
  {
    PhaseTimer timer(timings, kNorms);
    ops.rms_norm_backward(dh, grad("norm_f.weight"), s.d_hn.data(), s.h_final.data(),
                          param("norm_f.weight"), s.rstd_f.data(), R, D);
  }
  auto linear_backward = [&](T* d_in, T* d_weight, const T* d_out, const T* x_tilde,
                             const BitLinearWeight<T>& w, bool accumulate) {
    PhaseTimer timer(timings, kLinearBackward);
    ops.bit_linear_backward(d_in, d_weight, d_out, x_tilde, w, R, accumulate);
  };
  auto add_into = [&](T* acc, const T* delta, int64_t n) {
    PhaseTimer timer(timings, kResidual);
    ops.add_into(acc, delta, n);
  };
  for (int64_t l = N - 1; l >= 0; --l) {
    const LayerOffsets& offsets = s.layers[static_cast<size_t>(l)];
    const T* norm1 = values + offsets.norm1;
    const T* norm2 = values + offsets.norm2;
    auto linear_grad = [&](int j) { return grads + offsets.linear[static_cast<size_t>(j)]; };
    // MLP: h_out = h_mid + down(a4), a4 = silu(gate)⊙up, gate/up = (a3 · W~ᵀ).
    T* d_gate = s.d_big1.data();
    T* d_up = s.d_big2.data();
    linear_backward(d_gate, linear_grad(4), dh, per_layer(s.a4, l, I), weight(l, 4), false);
    {
      PhaseTimer timer(timings, kSwigluBackward);
      ops.swiglu_backward(d_gate, d_up, d_gate, per_layer(s.gate, l, I), per_layer(s.up, l, I),
                          R * I);
    }
    linear_backward(s.d_norm.data(), linear_grad(2), d_gate, per_layer(s.a3, l, D), weight(l, 2),
                    false);
    linear_backward(s.d_norm.data(), linear_grad(3), d_up, per_layer(s.a3, l, D), weight(l, 3),
                    true);
    {
      PhaseTimer timer(timings, kNorms);
      ops.rms_norm_backward(s.d_tmp.data(), grads + offsets.norm2, s.d_norm.data(),
                            per_layer(s.h_mid, l, D), norm2, per_layer(s.rstd2, l, 1), R, D);
    }
    add_into(dh, s.d_tmp.data(), R * D);

    // TTT: h_mid = h_in + up(p~), p = scan(f), f = k/(‖k‖+ε), k = a1 · W~ᵀ.
    linear_backward(s.d_p.data(), linear_grad(1), dh, per_layer(s.a2, l, d), weight(l, 1), false);
    {
      PhaseTimer timer(timings, kScanBackward);
      ops.ttt_scan_backward(s.d_f.data(), s.d_p.data(), per_layer(s.f, l, d), batch, seq_len, d,
                            eta, s.scan.data());
    }
    {
      PhaseTimer timer(timings, kNorms);
      ops.l2_normalize_backward(s.d_k.data(), s.d_f.data(), per_layer(s.f, l, d),
                                per_layer(s.k_norm, l, 1), R, d, feature_eps);
    }
    linear_backward(s.d_norm.data(), linear_grad(0), s.d_k.data(), per_layer(s.a1, l, D),
                    weight(l, 0), false);
    {
      PhaseTimer timer(timings, kNorms);
      ops.rms_norm_backward(s.d_tmp.data(), grads + offsets.norm1, s.d_norm.data(),
                            per_layer(s.h_in, l, D), norm1, per_layer(s.rstd1, l, 1), R, D);
    }
    add_into(dh, s.d_tmp.data(), R * D);
  }
  {
    PhaseTimer timer(timings, kEmbedding);
    ops.embedding_backward(grad("embed.weight"), dh, token_ids, R, D);
  }
  return loss;
}

}  // namespace bit_ttt::train
