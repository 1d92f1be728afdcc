// Row-wise and element-wise ops of a block: RMSNorm, SwiGLU, the residual add and
// the TTT feature normalisation. Reductions run over a block of threads, so their
// float sums are ordered differently from the CPU's (tolerances in the parity test).
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace bit_ttt::cuda {
namespace {

constexpr int kThreads = 256;

__device__ float row_sum_squares(const float* x, int64_t cols, float* shared) {
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) s += x[i] * x[i];
  return block_reduce(s, shared, [](float v) { return warp_sum(v); });
}

__global__ void rms_norm_kernel(const float* x, const float* weight, float eps, int64_t cols,
                                float* out) {
  __shared__ float shared[kWarp];
  const float* in = x + blockIdx.x * cols;
  float* result = out + blockIdx.x * cols;
  const float rms = sqrtf(row_sum_squares(in, cols, shared) / static_cast<float>(cols) + eps);
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) result[i] = in[i] / rms * weight[i];
}

__global__ void l2_normalize_kernel(float* x, int64_t cols, float eps) {
  __shared__ float shared[kWarp];
  float* row = x + blockIdx.x * cols;
  const float denominator = sqrtf(row_sum_squares(row, cols, shared)) + eps;
  __syncthreads();  // every thread has read the row before it is overwritten
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) row[i] /= denominator;
}

__global__ void swiglu_kernel(const float* gate, const float* up, int64_t n, float* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float g = gate[i];
  out[i] = g / (1.0f + expf(-g)) * up[i];
}

__global__ void add_kernel(float* accumulator, const float* delta, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) accumulator[i] += delta[i];
}

}  // namespace

void rms_norm(const float* x, const float* weight, float eps, int64_t rows, int64_t cols,
              float* out, cudaStream_t stream) {
  if (rows == 0) return;
  rms_norm_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, weight, eps, cols, out);
}

void l2_normalize_rows(float* x, int64_t rows, int64_t cols, float eps, cudaStream_t stream) {
  if (rows == 0) return;
  l2_normalize_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, cols, eps);
}

void swiglu(const float* gate, const float* up, int64_t n, float* out, cudaStream_t stream) {
  if (n == 0) return;
  swiglu_kernel<<<blocks_for(n, kThreads), kThreads, 0, stream>>>(gate, up, n, out);
}

void add_in_place(float* accumulator, const float* delta, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  add_kernel<<<blocks_for(n, kThreads), kThreads, 0, stream>>>(accumulator, delta, n);
}

}  // namespace bit_ttt::cuda
