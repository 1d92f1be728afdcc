// Small device helpers shared by the .cu kernels.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace bit_ttt::cuda {

inline constexpr int kWarp = 32;

inline unsigned blocks_for(int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

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

// The warp-per-row GEMV/GEMM layout of the dense and ternary kernels: warp w of
// block x owns weight row x·kGemvWarps + w; blockIdx.y picks a tile of up to
// kGemvRowTile activation rows, so each weight element is loaded once per tile.
inline constexpr int kGemvWarps = 4;
inline constexpr int kGemvRowTile = 8;
inline constexpr int kGemvThreads = kGemvWarps * kWarp;

struct GemvTile {
  int lane;
  int64_t out_row;    // the weight row (output column) of this warp
  int64_t first_row;  // the tile's first activation row
  int n_rows;         // activation rows in the tile
};

__device__ __forceinline__ GemvTile gemv_tile(int64_t rows) {
  GemvTile tile;
  tile.lane = threadIdx.x % kWarp;
  tile.out_row = static_cast<int64_t>(blockIdx.x) * kGemvWarps + threadIdx.x / kWarp;
  tile.first_row = static_cast<int64_t>(blockIdx.y) * kGemvRowTile;
  tile.n_rows = rows_in_tile(rows, tile.first_row, kGemvRowTile);
  return tile;
}

inline dim3 gemv_grid(int64_t n_out, int64_t rows) {
  return dim3(blocks_for(n_out, kGemvWarps), blocks_for(rows, kGemvRowTile));
}

// Sum / max over a block of up to 1024 threads; every thread gets the result.
// `shared` holds kWarp values; `identity` fills the lanes past the block's warps
// (0 for a sum or a max of values ≥ 0, −inf for a max of any values).
template <typename T, typename Op>
__device__ __forceinline__ T block_reduce(T v, T* shared, Op warp_op, T identity = T(0)) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int n_warps = (blockDim.x + kWarp - 1) / kWarp;
  v = warp_op(v);
  __syncthreads();  // `shared` may still be read by a previous reduction
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < n_warps ? shared[lane] : identity;
  return warp_op(v);
}

// The int8 activation quantizer of ref::int8_quantize_row, shared by the inference
// and training kernels. γ = max(max|x|, 1e-5) of a row (one block per row; every
// thread gets it) and a value's code clamp(rint(x·127/γ), −128, 127), each
// operation rounded on its own as the CPU does (no FMA contraction).
__device__ __forceinline__ float row_int8_gamma(const float* x, int64_t cols, float* shared) {
  float max_abs = 0.0f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) max_abs = fmaxf(max_abs, fabsf(x[i]));
  max_abs = block_reduce(max_abs, shared, [](float v) { return warp_max(v); });
  return fmaxf(max_abs, 1e-5f);
}
__device__ __forceinline__ float int8_code(float x, float gamma) {
  const float scaled = rintf(__fdiv_rn(__fmul_rn(x, 127.0f), gamma));
  return fminf(fmaxf(scaled, -128.0f), 127.0f);
}

}  // namespace bit_ttt::cuda
