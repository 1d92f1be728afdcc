// Ternary × activation GEMV/GEMM on i2-packed weights (layout: cuda_kernels.h).
// One warp per weight row; each word of the row is loaded once and applied to up
// to kGemvRowTile activation rows, so a prefill chunk reads the weights rows/kGemvRowTile
// times instead of rows times.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace bit_ttt::cuda {
namespace {

constexpr int kBlockWeights = 256;  // i2: 256 weights in 64 bytes = 16 words
constexpr int kWordsPerBlock = 16;

// Weight index (within the row) of byte 0 of word m's digit group k.
__device__ __forceinline__ int64_t word_base(int64_t m) {
  return (m / kWordsPerBlock) * kBlockWeights + (m % kWordsPerBlock) * 4;
}

__global__ void ternary_i8_kernel(const uint8_t* w, int64_t n_out, int64_t stride, const int8_t* xq,
                                  const int32_t* row_sums, const float* gammas, float beta,
                                  int64_t rows, float* out) {
  const GemvTile tile = gemv_tile(rows);
  if (tile.out_row >= n_out) return;
  const int lane = tile.lane, n_here = tile.n_rows;
  const int64_t o = tile.out_row, r0 = tile.first_row;
  const int64_t padded = stride * 4;
  const uint32_t* row = reinterpret_cast<const uint32_t*>(w + o * stride);
  const int8_t* x0 = xq + r0 * padded;
  int acc[kGemvRowTile] = {};
  for (int64_t m = lane; m < stride / 4; m += kWarp) {
    const uint32_t word = __ldg(row + m);
    const int64_t base = word_base(m);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int digits = static_cast<int>((word >> (2 * k)) & 0x03030303u);
#pragma unroll
      for (int r = 0; r < kGemvRowTile; ++r)
        if (r < n_here)
          acc[r] = __dp4a(digits, *reinterpret_cast<const int*>(x0 + r * padded + base + 64 * k),
                          acc[r]);
    }
  }
#pragma unroll
  for (int r = 0; r < kGemvRowTile; ++r) {
    if (r >= n_here) break;
    const int sum = warp_sum(acc[r]);
    if (lane == 0) {
      const int64_t rr = r0 + r;
      const float scale = __fdiv_rn(__fmul_rn(beta, gammas[rr]), 127.0f);
      out[rr * n_out + o] = __fmul_rn(scale, static_cast<float>(sum - row_sums[rr]));
    }
  }
}

__global__ void ternary_f32_kernel(const uint8_t* w, int64_t n_out, int64_t stride, const float* x,
                                   int64_t rows, int64_t n_in, float beta, float* out) {
  const GemvTile tile = gemv_tile(rows);
  if (tile.out_row >= n_out) return;
  const int lane = tile.lane, n_here = tile.n_rows;
  const int64_t o = tile.out_row, r0 = tile.first_row;
  const uint32_t* row = reinterpret_cast<const uint32_t*>(w + o * stride);
  const float* x0 = x + r0 * n_in;
  float acc[kGemvRowTile] = {};
  for (int64_t m = lane; m < stride / 4; m += kWarp) {
    const uint32_t word = __ldg(row + m);
    const int64_t base = word_base(m);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
#pragma unroll
      for (int b = 0; b < 4; ++b) {
        const int code = static_cast<int>((word >> (8 * b + 2 * k)) & 3u) - 1;
        const int64_t i = base + 64 * k + b;
        if (code == 0 || i >= n_in) continue;
#pragma unroll
        for (int r = 0; r < kGemvRowTile; ++r)
          if (r < n_here) acc[r] += code > 0 ? x0[r * n_in + i] : -x0[r * n_in + i];
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kGemvRowTile; ++r) {
    if (r >= n_here) break;
    const float sum = warp_sum(acc[r]);
    if (lane == 0) out[(r0 + r) * n_out + o] = sum * beta;
  }
}

}  // namespace

void ternary_gemm_i8(const uint8_t* w, int64_t n_out, int64_t row_stride_bytes, const int8_t* xq,
                     const int32_t* row_sums, const float* gammas, float beta, int64_t rows,
                     float* out, cudaStream_t stream) {
  if (rows == 0 || n_out == 0) return;
  ternary_i8_kernel<<<gemv_grid(n_out, rows), kGemvThreads, 0, stream>>>(
      w, n_out, row_stride_bytes, xq, row_sums, gammas, beta, rows, out);
}

void ternary_gemm_f32(const uint8_t* w, int64_t n_out, int64_t row_stride_bytes, const float* x,
                      int64_t rows, int64_t n_in, float beta, float* out, cudaStream_t stream) {
  if (rows == 0 || n_out == 0) return;
  ternary_f32_kernel<<<gemv_grid(n_out, rows), kGemvThreads, 0, stream>>>(
      w, n_out, row_stride_bytes, x, rows, n_in, beta, out);
}

}  // namespace bit_ttt::cuda
