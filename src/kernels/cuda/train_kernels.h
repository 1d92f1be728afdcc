// CUDA kernels of the training pass (float): plain launch functions over device
// pointers, enqueued on the caller's stream (no synchronisation, no allocation).
// Each one computes what the same-named CPU op in src/train/ops_*.h computes (the
// CPU op is the reference; tests/cuda/cuda_train_kernels_test.cc compares them).
// Shapes are row-major [rows, cols]; weights [n_out, n_in] (PyTorch order).
// The dense products (x·Wᵀ, dy·W, dyᵀ·x) are cuBLAS calls made by the caller.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace bit_ttt::cuda::train {

// ---- BitLinear quantizers (train/ops_bit_linear.h).
// abs_sums[j] = Σ|w_j| (double accumulation) for n_tensors tensors, tensor j being
// weights + offsets[j] with counts[j] values (offsets/counts are device arrays).
// Then betas[j] = max(float(abs_sums[j] / counts[j]), 1e-5) and
// codes + code_offsets[j] = clamp(rint(w / β), −1, 1) as float.
void ternary_quantize_weights(const float* weights, const int64_t* offsets, const int64_t* counts,
                              const int64_t* code_offsets, int64_t n_tensors, float* codes,
                              double* abs_sums, float* betas, cudaStream_t stream);

// Per row: γ = max(max|x|, 1e-5), xq = clamp(rint(x·127/γ), −128, 127) (as float),
// x~ = xq·γ/127. x_tilde may alias in.
void int8_quantize_activations(float* x_tilde, float* xq, float* gamma, const float* in,
                               int64_t rows, int64_t cols, cudaStream_t stream);

// out[r, o] *= scale · γ_r / 127 (the int8 BitLinear's row scale, in the CPU's order:
// row_scale = scale·γ_r/127, then row_scale·out).
void scale_rows_by_gamma(float* out, const float* gamma, float scale, int64_t rows, int64_t cols,
                         cudaStream_t stream);

// ---- Norms (train/ops_norm.h).
// y = x / rms · w with rms = sqrt(Σx²/dim + eps); rstd[r] = 1/rms.
void rms_norm_forward(float* out, float* rstd, const float* in, const float* weight, int64_t rows,
                      int64_t dim, float eps, cudaStream_t stream);
// dx = s·dy⊙w − x·s³·(Σ dy⊙w⊙x)/dim; d_weight[i] += Σ_r dy[r,i]·x[r,i]·s_r (summed in
// row order per column: deterministic).
void rms_norm_backward(float* d_in, float* d_weight, const float* d_out, const float* in,
                       const float* weight, const float* rstd, int64_t rows, int64_t dim,
                       cudaStream_t stream);
// f = k / (‖k‖ + eps); norm[r] = ‖k‖.
void l2_normalize_forward(float* out, float* norm, const float* in, int64_t rows, int64_t dim,
                          float eps, cudaStream_t stream);
// dk = df/(‖k‖+eps) − f·(f·df)/‖k‖ (the second term 0 when ‖k‖ = 0).
void l2_normalize_backward(float* d_in, const float* d_out, const float* out, const float* norm,
                           int64_t rows, int64_t dim, float eps, cudaStream_t stream);

// ---- Elementwise (train/ops_swiglu.h and the residual adds).
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n, cudaStream_t stream);
// σ = 1/(1+e^−g): d_up = d·g·σ, d_gate = d·up·σ·(1 + g(1−σ)). d_gate may alias d_out.
void swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                     const float* up, int64_t n, cudaStream_t stream);
void add(float* out, const float* a, const float* b, int64_t n, cudaStream_t stream);
void add_into(float* accumulator, const float* delta, int64_t n, cudaStream_t stream);

// ---- Embedding (train/ops_embedding.h); tokens are device int32.
void embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t rows,
                       int64_t dim, cudaStream_t stream);
// d_table[tokens[r]] += d_out[r] for r in order (per column: deterministic).
void embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t rows,
                        int64_t dim, cudaStream_t stream);

// ---- Cross-entropy (train/ops_cross_entropy.h); targets < 0 have no loss.
// losses[r] = log Σ e^(z−max) + max − z[target]. With `backward`, d_logits (may
// alias logits) = d_loss·softmax(z) − d_loss·onehot(target) (0 for a row without a
// target); without, d_logits receives the softmax.
void cross_entropy(float* d_logits, float* losses, const float* logits, const int32_t* targets,
                   float d_loss, bool backward, int64_t rows, int64_t vocab, cudaStream_t stream);

// ---- The TTT scan (train/ops_ttt.h), n_seqs sequences of seq_len tokens, S_0 = 0.
// Scratch sizes in floats.
int64_t ttt_scan_forward_scratch(int64_t n_seqs, int64_t d);
int64_t ttt_scan_backward_scratch(int64_t n_seqs, int64_t seq_len, int64_t d);
// p_t = S_{t−1} f_t; S_t = S_{t−1} − η (p_t − f_t) f_tᵀ.
void ttt_scan_forward(float* p, const float* f, int64_t n_seqs, int64_t seq_len, int64_t d,
                      float eta, float* scratch, cudaStream_t stream);
// d_f from d_p, exact through every state (the recurrence of ops_ttt.h); the states
// are recomputed with the forward's own step, so they equal the forward's.
void ttt_scan_backward(float* d_f, const float* d_p, const float* f, int64_t n_seqs,
                       int64_t seq_len, int64_t d, float eta, float* scratch, cudaStream_t stream);

// ---- Optimizer (train/adamw.h), over one tensor of n values.
// m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= decay·p + step_size·m/(√v·inv_sqrt_bias2 + eps).
void adamw(float* params, const float* grads, float* exp_avg, float* exp_avg_sq, int64_t n,
           float beta1, float beta2, float step_size, float inv_sqrt_bias2, float eps, float decay,
           cudaStream_t stream);
// *sum_sq = Σ g² (double; overwritten).
void sum_of_squares(const float* values, int64_t n, double* sum_sq, cudaStream_t stream);
void scale(float* values, int64_t n, float factor, cudaStream_t stream);

}  // namespace bit_ttt::cuda::train
