// Per-row int8 activation quantization (ref::int8_quantize_row) on the GPU.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace bit_ttt::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void quantize_rows_kernel(const float* x, int64_t cols, int64_t padded_cols, int8_t* xq,
                                     float* gammas, int32_t* row_sums) {
  __shared__ float shared_max[kWarp];
  __shared__ int shared_sum[kWarp];
  const int64_t row = blockIdx.x;
  const float* in = x + row * cols;
  float max_abs = 0.0f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) max_abs = fmaxf(max_abs, fabsf(in[i]));
  max_abs = block_reduce(max_abs, shared_max, [](float v) { return warp_max(v); });
  const float gamma = fmaxf(max_abs, 1e-5f);
  int8_t* out = xq + row * padded_cols;
  int sum = 0;
  for (int64_t i = threadIdx.x; i < padded_cols; i += blockDim.x) {
    int q = 0;
    if (i < cols) {
      // The CPU's x·127/γ, rounded once per operation (no FMA contraction).
      const float scaled = rintf(__fdiv_rn(__fmul_rn(in[i], 127.0f), gamma));
      q = static_cast<int>(fminf(fmaxf(scaled, -128.0f), 127.0f));
    }
    out[i] = static_cast<int8_t>(q);
    sum += q;
  }
  sum = block_reduce(sum, shared_sum, [](int v) { return warp_sum(v); });
  if (threadIdx.x == 0) {
    gammas[row] = gamma;
    if (row_sums) row_sums[row] = sum;
  }
}

}  // namespace

void quantize_rows_i8(const float* x, int64_t rows, int64_t cols, int64_t padded_cols, int8_t* xq,
                      float* gammas, int32_t* row_sums, cudaStream_t stream) {
  if (rows == 0) return;
  quantize_rows_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, cols, padded_cols,
                                                                             xq, gammas, row_sums);
}

}  // namespace bit_ttt::cuda
