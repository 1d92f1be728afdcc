// The training pass's row, elementwise and optimizer kernels (train_kernels.h): each
// computes what the same-named CPU op in src/train/ops_*.h computes. Row ops run one
// block per row; sums that must not depend on the launch (d_weight of RMSNorm, the
// embedding gradient, the gradient norm) run in a fixed order per thread or in one
// block. Where the CPU's rounding decides a discrete outcome (the quantizers) the
// operations are spelled with the _rn intrinsics so that nvcc cannot contract them.
#include <cmath>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/train_kernels.h"

namespace bit_ttt::cuda::train {
namespace {

constexpr int kRowThreads = 256;
constexpr int kBigRowThreads = 512;  // cross-entropy rows (V up to ~16K and more)
constexpr int kQuantizeThreads = 1024;
constexpr int kElementThreads = 256;
constexpr unsigned kMaxElementBlocks = 1u << 20;  // grid-stride beyond this

// Blocks of an elementwise grid-stride launch over n values.
unsigned element_blocks(int64_t n) {
  const unsigned blocks = blocks_for(n, kElementThreads);
  return blocks < kMaxElementBlocks ? blocks : kMaxElementBlocks;
}

__device__ __forceinline__ int64_t global_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

__device__ __forceinline__ double warp_sum_double(double v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Block sum of float / double (every thread gets it); `shared` holds kWarp values.
__device__ __forceinline__ float block_sum(float v, float* shared) {
  return block_reduce(v, shared, [](float x) { return warp_sum(x); });
}
__device__ __forceinline__ double block_sum(double v, double* shared) {
  return block_reduce(v, shared, [](double x) { return warp_sum_double(x); });
}

// Block max of values that may all be negative (lanes past the warps hold −inf).
__device__ __forceinline__ float block_max(float v, float* shared) {
  return block_reduce(
      v, shared, [](float x) { return warp_max(x); }, -INFINITY);
}

// ---- Quantizers.

__global__ void __launch_bounds__(kQuantizeThreads)
    ternary_quantize_kernel(const float* weights, const int64_t* offsets, const int64_t* counts,
                            const int64_t* code_offsets, float* codes, double* abs_sums,
                            float* betas) {
  __shared__ double shared[kWarp];
  const int64_t j = blockIdx.x;
  const int64_t n = counts[j];
  const float* w = weights + offsets[j];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += fabs(static_cast<double>(w[i]));
  sum = block_sum(sum, shared);
  // As ref::ternary_quantize: the mean in double, then float, then the floor.
  const float beta = n > 0 ? fmaxf(static_cast<float>(sum / static_cast<double>(n)), 1e-5f) : 1e-5f;
  if (threadIdx.x == 0) {
    abs_sums[j] = sum;
    betas[j] = beta;
  }
  float* out = codes + code_offsets[j];
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    // Through an int as the CPU's int8 code: a small negative w gives +0, not rintf's −0.
    const float scaled = rintf(__fdiv_rn(w[i], beta));
    out[i] = static_cast<float>(static_cast<int>(fminf(fmaxf(scaled, -1.0f), 1.0f)));
  }
}

__global__ void int8_quantize_kernel(float* x_tilde, float* xq, float* gamma, const float* in,
                                     int64_t cols) {
  __shared__ float shared[kWarp];
  const int64_t row = blockIdx.x;
  const float* x = in + row * cols;
  const float g = row_int8_gamma(x, cols, shared);
  if (threadIdx.x == 0) gamma[row] = g;
  float* q_row = xq + row * cols;
  float* t_row = x_tilde + row * cols;  // may alias x: each element is read, then written
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    // The CPU's x·127/γ and q·γ/127, each operation rounded on its own; q goes through
    // an int as the CPU's int8 code does, so a small negative x gives +0, not rintf's −0.
    const float q = static_cast<float>(static_cast<int>(int8_code(x[i], g)));
    q_row[i] = q;
    t_row[i] = __fdiv_rn(__fmul_rn(q, g), 127.0f);
  }
}

__global__ void scale_rows_kernel(float* out, const float* gamma, float scale, int64_t cols,
                                  int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    const float row_scale = __fdiv_rn(__fmul_rn(scale, gamma[i / cols]), 127.0f);
    out[i] = __fmul_rn(row_scale, out[i]);
  }
}

// ---- Norms.

__global__ void rms_norm_forward_kernel(float* out, float* rstd, const float* in,
                                        const float* weight, int64_t dim, float eps) {
  __shared__ float shared[kWarp];
  const int64_t row = blockIdx.x;
  const float* x = in + row * dim;
  float* y = out + row * dim;
  float sum_squares = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) sum_squares += x[i] * x[i];
  sum_squares = block_sum(sum_squares, shared);
  const float rms = sqrtf(sum_squares / static_cast<float>(dim) + eps);
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) y[i] = x[i] / rms * weight[i];
  if (threadIdx.x == 0) rstd[row] = 1.0f / rms;
}

__global__ void rms_norm_backward_rows_kernel(float* d_in, const float* d_out, const float* in,
                                              const float* weight, const float* rstd, int64_t dim) {
  __shared__ float shared[kWarp];
  const int64_t row = blockIdx.x;
  const float* x = in + row * dim;
  const float* dy = d_out + row * dim;
  float* dx = d_in + row * dim;
  float projection = 0.0f;  // Σ dy⊙w⊙x
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) projection += dy[i] * weight[i] * x[i];
  projection = block_sum(projection, shared);  // its barriers: the row is read before dx is written
  const float s = rstd[row];
  const float coefficient = s * s * s * projection / static_cast<float>(dim);
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x)
    dx[i] = s * dy[i] * weight[i] - x[i] * coefficient;
}

// One thread per column, rows in order: the CPU's sum, rounded as it is written.
__global__ void rms_norm_backward_weight_kernel(float* d_weight, const float* d_out,
                                                const float* in, const float* rstd, int64_t rows,
                                                int64_t dim) {
  const int64_t i = global_index();
  if (i >= dim) return;
  float sum = d_weight[i];
  for (int64_t r = 0; r < rows; ++r)
    sum = __fadd_rn(sum, __fmul_rn(__fmul_rn(d_out[r * dim + i], in[r * dim + i]), rstd[r]));
  d_weight[i] = sum;
}

__global__ void l2_normalize_forward_kernel(float* out, float* norm, const float* in, int64_t dim,
                                            float eps) {
  __shared__ float shared[kWarp];
  const int64_t row = blockIdx.x;
  const float* k = in + row * dim;
  float* f = out + row * dim;
  float sum_squares = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) sum_squares += k[i] * k[i];
  sum_squares = block_sum(sum_squares, shared);
  const float length = sqrtf(sum_squares);
  const float denominator = length + eps;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) f[i] = k[i] / denominator;
  if (threadIdx.x == 0) norm[row] = length;
}

__global__ void l2_normalize_backward_kernel(float* d_in, const float* d_out, const float* out,
                                             const float* norm, int64_t dim, float eps) {
  __shared__ float shared[kWarp];
  const int64_t row = blockIdx.x;
  const float* f = out + row * dim;
  const float* df = d_out + row * dim;
  float* dk = d_in + row * dim;
  float dot = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) dot += f[i] * df[i];
  dot = block_sum(dot, shared);
  const float length = norm[row];
  const float inverse_denominator = 1.0f / (length + eps);
  const float radial = length > 0.0f ? dot / length : 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x)
    dk[i] = df[i] * inverse_denominator - f[i] * radial;
}

// ---- Elementwise.

__global__ void swiglu_forward_kernel(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    const float g = gate[i];
    // cpu::swiglu_row clamps the exponent's argument to ±87.
    const float e = expf(fminf(fmaxf(-g, -87.0f), 87.0f));
    out[i] = g / (1.0f + e) * up[i];
  }
}

__global__ void swiglu_backward_kernel(float* d_gate, float* d_up, const float* d_out,
                                       const float* gate, const float* up, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    const float g = gate[i];
    const float sigmoid = 1.0f / (1.0f + expf(-g));
    const float d = d_out[i];
    const float u = up[i];
    d_up[i] = d * g * sigmoid;
    d_gate[i] = d * u * sigmoid * (1.0f + g * (1.0f - sigmoid));  // d_out[i] already read
  }
}

__global__ void add_kernel(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) out[i] = a[i] + b[i];
}

__global__ void add_into_kernel(float* accumulator, const float* delta, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) accumulator[i] += delta[i];
}

// ---- Embedding.

__global__ void embedding_forward_kernel(float* out, const float* table, const int32_t* tokens,
                                         int64_t dim, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    const int64_t r = i / dim, c = i - r * dim;
    out[i] = table[static_cast<int64_t>(tokens[r]) * dim + c];
  }
}

// One thread per column, rows in order: a repeated token adds in row order.
__global__ void embedding_backward_kernel(float* d_table, const float* d_out, const int32_t* tokens,
                                          int64_t rows, int64_t dim) {
  const int64_t c = global_index();
  if (c >= dim) return;
  for (int64_t r = 0; r < rows; ++r)
    d_table[static_cast<int64_t>(tokens[r]) * dim + c] += d_out[r * dim + c];
}

// ---- Cross-entropy: one block per row.

__global__ void __launch_bounds__(kBigRowThreads)
    cross_entropy_kernel(float* d_logits, float* losses, const float* logits,
                         const int32_t* targets, float d_loss, bool backward, int64_t vocab) {
  __shared__ float shared[kWarp];
  const int64_t row = blockIdx.x;
  const int32_t target = targets[row];
  float* d = d_logits + row * vocab;
  if (target < 0) {  // no loss; the gradient is 0, the forward leaves the row as it is
    if (threadIdx.x == 0) losses[row] = 0.0f;
    if (backward)
      for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) d[v] = 0.0f;
    return;
  }
  const float* z = logits + row * vocab;
  // Read before the reductions' barriers, so before d (maybe z) is written.
  const float target_logit = z[target];
  float max_logit = -INFINITY;
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) max_logit = fmaxf(max_logit, z[v]);
  max_logit = block_max(max_logit, shared);
  float sum = 0.0f;
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) sum += expf(z[v] - max_logit);
  sum = block_sum(sum, shared);
  if (threadIdx.x == 0) losses[row] = logf(sum) + max_logit - target_logit;
  // Each thread rewrites only the elements it read (d may alias z).
  if (backward) {
    const float scale = d_loss / sum;
    for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) {
      float value = expf(z[v] - max_logit) * scale;
      if (v == target) value -= d_loss;
      d[v] = value;
    }
  } else {
    const float inverse_sum = 1.0f / sum;
    for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x)
      d[v] = expf(z[v] - max_logit) * inverse_sum;
  }
}

// ---- Optimizer.

__global__ void adamw_kernel(float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                             int64_t n, float beta1, float beta2, float step_size,
                             float inv_sqrt_bias2, float eps, float decay) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    const float g = grads[i];
    const float m = beta1 * exp_avg[i] + (1.0f - beta1) * g;
    const float v = beta2 * exp_avg_sq[i] + (1.0f - beta2) * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    const float denominator = sqrtf(v) * inv_sqrt_bias2 + eps;
    const float p = params[i];
    params[i] = p - (decay * p + step_size * m / denominator);
  }
}

// One block, so the double sum's order is fixed by the launch (deterministic).
__global__ void __launch_bounds__(kQuantizeThreads)
    sum_of_squares_kernel(const float* values, int64_t n, double* sum_sq) {
  __shared__ double shared[kWarp];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const double g = values[i];
    sum += g * g;
  }
  sum = block_sum(sum, shared);
  if (threadIdx.x == 0) *sum_sq = sum;
}

__global__ void scale_kernel(float* values, int64_t n, float factor) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) values[i] *= factor;
}

}  // namespace

void ternary_quantize_weights(const float* weights, const int64_t* offsets, const int64_t* counts,
                              const int64_t* code_offsets, int64_t n_tensors, float* codes,
                              double* abs_sums, float* betas, cudaStream_t stream) {
  if (n_tensors <= 0) return;
  ternary_quantize_kernel<<<static_cast<unsigned>(n_tensors), kQuantizeThreads, 0, stream>>>(
      weights, offsets, counts, code_offsets, codes, abs_sums, betas);
}

void int8_quantize_activations(float* x_tilde, float* xq, float* gamma, const float* in,
                               int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  int8_quantize_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(x_tilde, xq, gamma,
                                                                                in, cols);
}

void scale_rows_by_gamma(float* out, const float* gamma, float scale, int64_t rows, int64_t cols,
                         cudaStream_t stream) {
  const int64_t n = rows * cols;
  if (rows <= 0 || cols <= 0) return;
  scale_rows_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(out, gamma, scale, cols, n);
}

void rms_norm_forward(float* out, float* rstd, const float* in, const float* weight, int64_t rows,
                      int64_t dim, float eps, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  rms_norm_forward_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
      out, rstd, in, weight, dim, eps);
}

void rms_norm_backward(float* d_in, float* d_weight, const float* d_out, const float* in,
                       const float* weight, const float* rstd, int64_t rows, int64_t dim,
                       cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  // The weight gradient first: it reads d_out, which d_in might alias.
  rms_norm_backward_weight_kernel<<<blocks_for(dim, kElementThreads), kElementThreads, 0, stream>>>(
      d_weight, d_out, in, rstd, rows, dim);
  rms_norm_backward_rows_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
      d_in, d_out, in, weight, rstd, dim);
}

void l2_normalize_forward(float* out, float* norm, const float* in, int64_t rows, int64_t dim,
                          float eps, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  l2_normalize_forward_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
      out, norm, in, dim, eps);
}

void l2_normalize_backward(float* d_in, const float* d_out, const float* out, const float* norm,
                           int64_t rows, int64_t dim, float eps, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  l2_normalize_backward_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
      d_in, d_out, out, norm, dim, eps);
}

void swiglu_forward(float* out, const float* gate, const float* up, int64_t n,
                    cudaStream_t stream) {
  if (n <= 0) return;
  swiglu_forward_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(out, gate, up, n);
}

void swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                     const float* up, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  swiglu_backward_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(d_gate, d_up, d_out,
                                                                            gate, up, n);
}

void add(float* out, const float* a, const float* b, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  add_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(out, a, b, n);
}

void add_into(float* accumulator, const float* delta, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  add_into_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(accumulator, delta, n);
}

void embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t rows,
                       int64_t dim, cudaStream_t stream) {
  const int64_t n = rows * dim;
  if (rows <= 0 || dim <= 0) return;
  embedding_forward_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(out, table, tokens,
                                                                              dim, n);
}

void embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t rows,
                        int64_t dim, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  embedding_backward_kernel<<<blocks_for(dim, kElementThreads), kElementThreads, 0, stream>>>(
      d_table, d_out, tokens, rows, dim);
}

void cross_entropy(float* d_logits, float* losses, const float* logits, const int32_t* targets,
                   float d_loss, bool backward, int64_t rows, int64_t vocab, cudaStream_t stream) {
  if (rows <= 0 || vocab <= 0) return;
  cross_entropy_kernel<<<static_cast<unsigned>(rows), kBigRowThreads, 0, stream>>>(
      d_logits, losses, logits, targets, d_loss, backward, vocab);
}

void adamw(float* params, const float* grads, float* exp_avg, float* exp_avg_sq, int64_t n,
           float beta1, float beta2, float step_size, float inv_sqrt_bias2, float eps, float decay,
           cudaStream_t stream) {
  if (n <= 0) return;
  adamw_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(
      params, grads, exp_avg, exp_avg_sq, n, beta1, beta2, step_size, inv_sqrt_bias2, eps, decay);
}

void sum_of_squares(const float* values, int64_t n, double* sum_sq, cudaStream_t stream) {
  // n = 0 still writes the sum (0): the caller reads it.
  sum_of_squares_kernel<<<1, kQuantizeThreads, 0, stream>>>(values, n < 0 ? 0 : n, sum_sq);
}

void scale(float* values, int64_t n, float factor, cudaStream_t stream) {
  if (n <= 0) return;
  scale_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(values, n, factor);
}

}  // namespace bit_ttt::cuda::train
