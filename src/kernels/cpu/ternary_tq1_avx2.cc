// tq1 × int8 and tq1 × f32 kernels for AVX2 + FMA (layout: ternary_packed_ref.h).
// A 32-byte block yields five runs of 32 contiguous digits: u_k = [m ≥ 86] + [m ≥ 171]
// with m = q·3^k mod 256 (unsigned compares as max + cmpeq, byte adds for ·3).
// f32 partial sums p[j + 32·(k odd)] run in index order, the same as AVX-512's.
#include "kernels/cpu/ternary_kernel_table.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <cstring>

#include "kernels/cpu/ternary_simd_avx2.h"

namespace bit_ttt::cpu {
namespace {

constexpr int64_t kBlock = kTq1BlockWeights;  // 160 weights in 32 bytes
constexpr int kTileI8 = 4;
constexpr int kTileF32 = 1;  // 8 accumulators per row fill the registers
// Activation bytes per GEMM tile (tile_rows), as measured for i2 (ternary_i2_avx512.cc).
constexpr int64_t kTileBytesI8 = 16384;

inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

template <typename X, int kTile>
struct Tile {
  alignas(64) X tail[kTile][kBlock];  // last partial block of each row, zero padded
  const X* x[kTile];
  int32_t x_sum[kTile];
  const X* block(int t, int64_t blk, int64_t n_full) const {
    return blk < n_full ? x[t] + blk * kBlock : tail[t];
  }
};

template <typename X, int kTile>
void load_tile(Tile<X, kTile>& tile, const X* x, int64_t n_in, int64_t r0, int n_tile) {
  const int64_t n_full = n_in / kBlock;
  const int64_t n_tail = n_in - n_full * kBlock;
  for (int t = 0; t < n_tile; ++t) {
    const X* row = x + (r0 + t) * n_in;
    tile.x[t] = row;
    std::memset(tile.tail[t], 0, sizeof(tile.tail[t]));
    if (n_tail > 0)
      std::memcpy(tile.tail[t], row + n_full * kBlock, static_cast<size_t>(n_tail) * sizeof(X));
  }
}

template <int T>
void gemm_i8_tile(const TernaryMatrixView& w, const Tile<int8_t, kTileI8>& tile, int64_t out_begin,
                  int64_t out_end, int32_t* out) {
  const int64_t n_blocks = w.row_stride_bytes / kTq1BlockBytes;
  const int64_t n_full = w.n_in / kBlock;
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t o = out_begin; o < out_end; ++o) {
    const uint8_t* row = w.data + o * w.row_stride_bytes;
    __m256i acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_si256();
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      avx2::prefetch_ahead(row + blk * kTq1BlockBytes);
      __m256i m = load256(row + blk * kTq1BlockBytes);
      const int8_t* x[T];
      __m256i sum16[T];
      for (int t = 0; t < T; ++t) {
        x[t] = tile.block(t, blk, n_full);
        sum16[t] = _mm256_setzero_si256();
      }
      for (int k = 0; k < 5; ++k) {
        const __m256i u = avx2::tq1_digits(m);
        m = avx2::times3_u8(m);
        for (int t = 0; t < T; ++t)  // int16 lanes stay within 5·512
          sum16[t] = _mm256_add_epi16(sum16[t], _mm256_maddubs_epi16(u, load256(x[t] + 32 * k)));
      }
      for (int t = 0; t < T; ++t)
        acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(sum16[t], ones));
    }
    for (int t = 0; t < T; ++t) out[t * w.n_out + o] = avx2::sum_i32(acc[t]) - tile.x_sum[t];
  }
}

inline __m256 bytes_to_f32(__m128i bytes) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
}

template <int T>
void gemm_f32_tile(const TernaryMatrixView& w, const Tile<float, kTileF32>& tile, int64_t out_begin,
                   int64_t out_end, float* out) {
  const int64_t n_blocks = w.row_stride_bytes / kTq1BlockBytes;
  const int64_t n_full = w.n_in / kBlock;
  for (int64_t o = out_begin; o < out_end; ++o) {
    const uint8_t* row = w.data + o * w.row_stride_bytes;
    __m256 acc[T][8];  // [4·(k odd) + j/8]
    for (int t = 0; t < T; ++t)
      for (int a = 0; a < 8; ++a) acc[t][a] = _mm256_setzero_ps();
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      avx2::prefetch_ahead(row + blk * kTq1BlockBytes);
      __m256i m = load256(row + blk * kTq1BlockBytes);
      const float* x[T];
      for (int t = 0; t < T; ++t) x[t] = tile.block(t, blk, n_full);
      for (int k = 0; k < 5; ++k) {
        const __m256i codes = _mm256_sub_epi8(avx2::tq1_digits(m), _mm256_set1_epi8(1));
        m = avx2::times3_u8(m);
        const __m128i low = _mm256_castsi256_si128(codes);
        const __m128i high = _mm256_extracti128_si256(codes, 1);
        const __m256 c[4] = {bytes_to_f32(low), bytes_to_f32(_mm_srli_si128(low, 8)),
                             bytes_to_f32(high), bytes_to_f32(_mm_srli_si128(high, 8))};
        const int a = 4 * (k & 1);
        for (int t = 0; t < T; ++t)
          for (int g = 0; g < 4; ++g)
            acc[t][a + g] =
                _mm256_fmadd_ps(_mm256_loadu_ps(x[t] + 32 * k + 8 * g), c[g], acc[t][a + g]);
      }
    }
    for (int t = 0; t < T; ++t) {
      // p[j] + p[j + 32], then j + (j + 16), then the 8-lane tail of the shared tree.
      const __m256 s0 =
          _mm256_add_ps(_mm256_add_ps(acc[t][0], acc[t][4]), _mm256_add_ps(acc[t][2], acc[t][6]));
      const __m256 s1 =
          _mm256_add_ps(_mm256_add_ps(acc[t][1], acc[t][5]), _mm256_add_ps(acc[t][3], acc[t][7]));
      out[t * w.n_out + o] = avx2::sum_lanes(_mm256_add_ps(s0, s1));
    }
  }
}

}  // namespace

void ternary_gemm_i8_tq1_avx2(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                              int64_t out_begin, int64_t out_end, int32_t* out) {
  Tile<int8_t, kTileI8> tile;
  const int max_tile = avx2::tile_rows(w.row_stride_bytes * 5, kTileBytesI8, kTileI8);
  for (int64_t r0 = 0; r0 < n_rows; r0 += max_tile) {
    const int n_tile = static_cast<int>(n_rows - r0 < max_tile ? n_rows - r0 : max_tile);
    load_tile(tile, xq, w.n_in, r0, n_tile);
    for (int t = 0; t < n_tile; ++t) tile.x_sum[t] = avx2::sum_i8(tile.x[t], w.n_in);
    int32_t* out_tile = out + r0 * w.n_out;
    switch (n_tile) {
      case 1:
        gemm_i8_tile<1>(w, tile, out_begin, out_end, out_tile);
        break;
      case 2:
        gemm_i8_tile<2>(w, tile, out_begin, out_end, out_tile);
        break;
      case 3:
        gemm_i8_tile<3>(w, tile, out_begin, out_end, out_tile);
        break;
      default:
        gemm_i8_tile<4>(w, tile, out_begin, out_end, out_tile);
        break;
    }
  }
}

void ternary_gemm_f32_tq1_avx2(const TernaryMatrixView& w, const float* x, int64_t n_rows,
                               int64_t out_begin, int64_t out_end, float* out) {
  Tile<float, kTileF32> tile;
  for (int64_t r0 = 0; r0 < n_rows; r0 += kTileF32) {
    load_tile(tile, x, w.n_in, r0, kTileF32);
    gemm_f32_tile<kTileF32>(w, tile, out_begin, out_end, out + r0 * w.n_out);
  }
}

}  // namespace bit_ttt::cpu
#endif
