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
  const float gamma = row_int8_gamma(in, cols, shared_max);
  int8_t* out = xq + row * padded_cols;
  int sum = 0;
  for (int64_t i = threadIdx.x; i < padded_cols; i += blockDim.x) {
    int q = 0;
    if (i < cols) {
      q = static_cast<int>(int8_code(in[i], gamma));
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
