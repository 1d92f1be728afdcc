// Small device helpers shared by the .cu kernels.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace bit_ttt::cuda {

inline constexpr int kWarp = 32;

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ int warp_sum(int v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Activation rows of the tile starting at row r0 (at most `tile`).
__device__ __forceinline__ int rows_in_tile(int64_t rows, int64_t r0, int tile) {
  const int64_t left = rows - r0;
  return left < tile ? static_cast<int>(left) : tile;
}

// Sum / max over a block of up to 1024 threads; every thread gets the result.
// `shared` holds kWarp values.
template <typename T, typename Op>
__device__ __forceinline__ T block_reduce(T v, T* shared, Op warp_op) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int n_warps = (blockDim.x + kWarp - 1) / kWarp;
  v = warp_op(v);
  __syncthreads();  // `shared` may still be read by a previous reduction
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < n_warps ? shared[lane] : T(0);
  return warp_op(v);
}

inline unsigned blocks_for(int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

}  // namespace bit_ttt::cuda
