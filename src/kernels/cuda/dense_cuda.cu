// Dense GEMV/GEMM for the LM head (f32 / f16 / bf16 weights, float activations;
// int8-per-row weights with int8 activations via dp4a), the embedding lookup and
// the float → half conversion that feeds cuBLAS. One warp per weight row, each
// weight element loaded once per tile of kGemvRowTile activation rows.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace bit_ttt::cuda {
namespace {

__device__ __forceinline__ float to_float(float v) {
  return v;
}
__device__ __forceinline__ float to_float(__half v) {
  return __half2float(v);
}
__device__ __forceinline__ float to_float(__nv_bfloat16 v) {
  return __bfloat162float(v);
}

template <typename T>
__global__ void dense_float_kernel(const T* w, int64_t n_out, int64_t n_in, const float* x,
                                   int64_t rows, float* out) {
  const GemvTile tile = gemv_tile(rows);
  if (tile.out_row >= n_out) return;
  const int lane = tile.lane, n_here = tile.n_rows;
  const int64_t o = tile.out_row, r0 = tile.first_row;
  const T* row = w + o * n_in;
  const float* x0 = x + r0 * n_in;
  float acc[kGemvRowTile] = {};
  for (int64_t i = lane; i < n_in; i += kWarp) {
    const float wi = to_float(row[i]);
#pragma unroll
    for (int r = 0; r < kGemvRowTile; ++r)
      if (r < n_here) acc[r] += wi * x0[r * n_in + i];
  }
#pragma unroll
  for (int r = 0; r < kGemvRowTile; ++r) {
    if (r >= n_here) break;
    const float sum = warp_sum(acc[r]);
    if (lane == 0) out[(r0 + r) * n_out + o] = sum;
  }
}

// kWords: n_in is a multiple of 4, so rows are word aligned and dp4a applies.
template <bool kWords>
__global__ void dense_i8_kernel(const int8_t* q, const float* row_scales, int64_t n_out,
                                int64_t n_in, const int8_t* xq, int64_t padded, const float* gammas,
                                int64_t rows, float* out) {
  const GemvTile tile = gemv_tile(rows);
  if (tile.out_row >= n_out) return;
  const int lane = tile.lane, n_here = tile.n_rows;
  const int64_t o = tile.out_row, r0 = tile.first_row;
  const int8_t* row = q + o * n_in;
  const int8_t* x0 = xq + r0 * padded;
  int acc[kGemvRowTile] = {};
  if constexpr (kWords) {
    const int* row_words = reinterpret_cast<const int*>(row);
    for (int64_t m = lane; m < n_in / 4; m += kWarp) {
      const int wm = __ldg(row_words + m);
#pragma unroll
      for (int r = 0; r < kGemvRowTile; ++r)
        if (r < n_here)
          acc[r] = __dp4a(wm, *reinterpret_cast<const int*>(x0 + r * padded + 4 * m), acc[r]);
    }
  } else {
    for (int64_t i = lane; i < n_in; i += kWarp) {
      const int wi = row[i];
#pragma unroll
      for (int r = 0; r < kGemvRowTile; ++r)
        if (r < n_here) acc[r] += wi * static_cast<int>(x0[r * padded + i]);
    }
  }
#pragma unroll
  for (int r = 0; r < kGemvRowTile; ++r) {
    if (r >= n_here) break;
    const int dot = warp_sum(acc[r]);
    if (lane == 0) {
      const int64_t rr = r0 + r;
      out[rr * n_out + o] = __fmul_rn(__fmul_rn(row_scales[o], __fdiv_rn(gammas[rr], 127.0f)),
                                      static_cast<float>(dot));
    }
  }
}

template <typename T>
__global__ void embedding_kernel(const T* table, const float* row_scales, int64_t width,
                                 const int32_t* ids, float* out) {
  const int64_t t = blockIdx.x;
  const int64_t id = ids[t];
  const T* row = table + id * width;
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) {
    if constexpr (std::is_same_v<T, int8_t>)
      out[t * width + i] = __fmul_rn(static_cast<float>(row[i]), row_scales[id]);
    else
      out[t * width + i] = to_float(row[i]);
  }
}

template <typename T>
__global__ void convert_kernel(const float* x, int64_t n, T* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if constexpr (std::is_same_v<T, __half>)
    out[i] = __float2half_rn(x[i]);
  else
    out[i] = __float2bfloat16_rn(x[i]);
}

}  // namespace

void dense_gemm_float(int dtype, const void* w, int64_t n_out, int64_t n_in, const float* x,
                      int64_t rows, float* out, cudaStream_t stream) {
  if (rows == 0 || n_out == 0) return;
  const dim3 grid = gemv_grid(n_out, rows);
  if (dtype == 0)
    dense_float_kernel<<<grid, kGemvThreads, 0, stream>>>(static_cast<const float*>(w), n_out, n_in,
                                                          x, rows, out);
  else if (dtype == 1)
    dense_float_kernel<<<grid, kGemvThreads, 0, stream>>>(static_cast<const __half*>(w), n_out,
                                                          n_in, x, rows, out);
  else
    dense_float_kernel<<<grid, kGemvThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(w),
                                                          n_out, n_in, x, rows, out);
}

void dense_gemm_i8(const int8_t* q, const float* row_scales, int64_t n_out, int64_t n_in,
                   const int8_t* xq, int64_t padded_cols, const float* gammas, int64_t rows,
                   float* out, cudaStream_t stream) {
  if (rows == 0 || n_out == 0) return;
  const dim3 grid = gemv_grid(n_out, rows);
  if (n_in % 4 == 0 && padded_cols % 4 == 0)
    dense_i8_kernel<true><<<grid, kGemvThreads, 0, stream>>>(q, row_scales, n_out, n_in, xq,
                                                             padded_cols, gammas, rows, out);
  else
    dense_i8_kernel<false><<<grid, kGemvThreads, 0, stream>>>(q, row_scales, n_out, n_in, xq,
                                                              padded_cols, gammas, rows, out);
}

void convert_f32_to_half(int dtype, const float* x, int64_t n, void* out, cudaStream_t stream) {
  if (n == 0) return;
  const unsigned blocks = blocks_for(n, 256);
  if (dtype == 1)
    convert_kernel<<<blocks, 256, 0, stream>>>(x, n, static_cast<__half*>(out));
  else
    convert_kernel<<<blocks, 256, 0, stream>>>(x, n, static_cast<__nv_bfloat16*>(out));
}

void embedding(int dtype, const void* table, const float* row_scales, int64_t width,
               const int32_t* ids, int64_t n_ids, float* out, cudaStream_t stream) {
  if (n_ids == 0) return;
  const unsigned blocks = static_cast<unsigned>(n_ids);
  switch (dtype) {
    case 0:
      embedding_kernel<<<blocks, 256, 0, stream>>>(static_cast<const float*>(table), row_scales,
                                                   width, ids, out);
      break;
    case 1:
      embedding_kernel<<<blocks, 256, 0, stream>>>(static_cast<const __half*>(table), row_scales,
                                                   width, ids, out);
      break;
    case 2:
      embedding_kernel<<<blocks, 256, 0, stream>>>(static_cast<const __nv_bfloat16*>(table),
                                                   row_scales, width, ids, out);
      break;
    default:
      embedding_kernel<<<blocks, 256, 0, stream>>>(static_cast<const int8_t*>(table), row_scales,
                                                   width, ids, out);
  }
}

}  // namespace bit_ttt::cuda
