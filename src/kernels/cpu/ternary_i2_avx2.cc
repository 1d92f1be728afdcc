// i2 × int8 and i2 × f32 kernels for AVX2 + FMA (layout: ternary_packed_ref.h).
//
// int8: each 32-byte half of a block + shift/mask gives four runs of 32 digits
// u = code + 1; maddubs(u, x) is exact for the whole int8 range (|u·x pair| ≤ 512)
// and Σ code·x = Σ u·x − Σ x.
// f32: vpermilps uses the low 2 bits of each dword as a table index, turning a bit
// pair straight into −1/0/+1, so x is permuted once per call to the order the
// lanes visit: lane l of group (half h, byte b, pair k) is weight 32h + 4l + b + 64k.
// The 64 partial sums are p[i mod 64] in index order, the same as AVX-512's.
#include "kernels/cpu/ternary_kernel_table.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <cstring>

#include "kernels/cpu/ternary_simd_avx2.h"

namespace bit_ttt::cpu {
namespace {

constexpr int64_t kBlock = kI2BlockWeights;  // 256 weights in 64 bytes
constexpr int kTileI8 = 4;                   // x rows sharing one decode of a block
constexpr int kTileF32 = 1;                  // 8 accumulators per row fill the registers
// Activation bytes per GEMM tile (tile_rows), measured on 4096-wide layers:
// int8 4 × 4 KB beat 8 × 4 KB.
constexpr int64_t kTileBytesI8 = 16384;

struct TileI8 {
  alignas(64) int8_t tail[kTileI8][kBlock];  // last partial block of each row, zero padded
  const int8_t* x[kTileI8];
  int32_t x_sum[kTileI8];
};

inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

template <int T>
void gemm_i8_tile(const TernaryMatrixView& w, const TileI8& tile, int64_t out_begin,
                  int64_t out_end, int32_t* out) {
  const int64_t n_blocks = w.row_stride_bytes / kI2BlockBytes;
  const int64_t n_full = w.n_in / kBlock;
  const __m256i mask = _mm256_set1_epi8(3);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t o = out_begin; o < out_end; ++o) {
    const uint8_t* row = w.data + o * w.row_stride_bytes;
    __m256i acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_si256();
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      const int8_t* x[T];
      for (int t = 0; t < T; ++t) x[t] = blk < n_full ? tile.x[t] + blk * kBlock : tile.tail[t];
      avx2::prefetch_ahead(row + blk * kI2BlockBytes);
      for (int h = 0; h < 2; ++h) {
        const __m256i packed = load256(row + blk * kI2BlockBytes + 32 * h);
        const __m256i u0 = _mm256_and_si256(packed, mask);
        const __m256i u1 = _mm256_and_si256(_mm256_srli_epi16(packed, 2), mask);
        const __m256i u2 = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask);
        const __m256i u3 = _mm256_and_si256(_mm256_srli_epi16(packed, 6), mask);
        for (int t = 0; t < T; ++t) {
          const int8_t* xh = x[t] + 32 * h;
          const __m256i p0 = _mm256_maddubs_epi16(u0, load256(xh));
          const __m256i p1 = _mm256_maddubs_epi16(u1, load256(xh + 64));
          const __m256i p2 = _mm256_maddubs_epi16(u2, load256(xh + 128));
          const __m256i p3 = _mm256_maddubs_epi16(u3, load256(xh + 192));
          const __m256i s = _mm256_add_epi16(_mm256_add_epi16(p0, p1), _mm256_add_epi16(p2, p3));
          acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(s, ones));
        }
      }
    }
    for (int t = 0; t < T; ++t) out[t * w.n_out + o] = avx2::sum_i32(acc[t]) - tile.x_sum[t];
  }
}

// xp[((4h + b)·4 + k)·8 + l] = x[32h + 4l + b + 64k] per block, zero past n_in.
void permute_x(const float* x, int64_t n_in, int64_t n_blocks, float* xp) {
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t base = blk * kBlock;
    const bool full = base + kBlock <= n_in;
    float* out = xp + base;
    for (int h = 0; h < 2; ++h)
      for (int b = 0; b < 4; ++b)
        for (int k = 0; k < 4; ++k)
          for (int l = 0; l < 8; ++l) {
            const int64_t i = base + 32 * h + 4 * l + b + 64 * k;
            out[((4 * h + b) * 4 + k) * 8 + l] = full || i < n_in ? x[i] : 0.0f;
          }
  }
}

template <int T>
void gemm_f32_tile(const TernaryMatrixView& w, const float* const xp[], int64_t out_begin,
                   int64_t out_end, float* out) {
  const int64_t n_blocks = w.row_stride_bytes / kI2BlockBytes;
  const __m256 table = _mm256_setr_ps(-1, 0, 1, 0, -1, 0, 1, 0);  // digit u → u − 1
  for (int64_t o = out_begin; o < out_end; ++o) {
    const uint8_t* row = w.data + o * w.row_stride_bytes;
    __m256 acc[T][8];  // [4h + b]
    for (int t = 0; t < T; ++t)
      for (int a = 0; a < 8; ++a) acc[t][a] = _mm256_setzero_ps();
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      avx2::prefetch_ahead(row + blk * kI2BlockBytes);
      for (int h = 0; h < 2; ++h) {
        const __m256i packed = load256(row + blk * kI2BlockBytes + 32 * h);
        for (int b = 0; b < 4; ++b) {
          for (int k = 0; k < 4; ++k) {
            const __m256 code =
                _mm256_permutevar_ps(table, _mm256_srli_epi32(packed, 8 * b + 2 * k));
            const int64_t offset = blk * kBlock + ((4 * h + b) * 4 + k) * 8;
            for (int t = 0; t < T; ++t)
              acc[t][4 * h + b] =
                  _mm256_fmadd_ps(_mm256_loadu_ps(xp[t] + offset), code, acc[t][4 * h + b]);
          }
        }
      }
    }
    for (int t = 0; t < T; ++t) {
      const __m256 half0 =
          _mm256_add_ps(_mm256_add_ps(acc[t][0], acc[t][1]), _mm256_add_ps(acc[t][2], acc[t][3]));
      const __m256 half1 =
          _mm256_add_ps(_mm256_add_ps(acc[t][4], acc[t][5]), _mm256_add_ps(acc[t][6], acc[t][7]));
      out[t * w.n_out + o] = avx2::sum_lanes(_mm256_add_ps(half0, half1));
    }
  }
}

}  // namespace

void ternary_gemm_i8_i2_avx2(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                             int64_t out_begin, int64_t out_end, int32_t* out) {
  TileI8 tile;
  const int64_t n_full = w.n_in / kBlock;
  const int64_t n_tail = w.n_in - n_full * kBlock;
  const int max_tile = avx2::tile_rows(w.row_stride_bytes * 4, kTileBytesI8, kTileI8);
  for (int64_t r0 = 0; r0 < n_rows; r0 += max_tile) {
    const int n_tile = static_cast<int>(n_rows - r0 < max_tile ? n_rows - r0 : max_tile);
    for (int t = 0; t < n_tile; ++t) {
      const int8_t* x = xq + (r0 + t) * w.n_in;
      tile.x[t] = x;
      std::memset(tile.tail[t], 0, sizeof(tile.tail[t]));
      if (n_tail > 0) std::memcpy(tile.tail[t], x + n_full * kBlock, static_cast<size_t>(n_tail));
      tile.x_sum[t] = avx2::sum_i8(x, w.n_in);
    }
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

void ternary_gemm_f32_i2_avx2(const TernaryMatrixView& w, const float* x, int64_t n_rows,
                              int64_t out_begin, int64_t out_end, float* out) {
  const int64_t n_blocks = w.row_stride_bytes / kI2BlockBytes;
  const int64_t n_padded = n_blocks * kBlock;
  float* scratch = reinterpret_cast<float*>(
      ternary_thread_scratch(static_cast<size_t>(kTileF32 * n_padded) * sizeof(float)));
  for (int64_t r0 = 0; r0 < n_rows; r0 += kTileF32) {
    const int n_tile = static_cast<int>(n_rows - r0 < kTileF32 ? n_rows - r0 : kTileF32);
    const float* xp[kTileF32];
    for (int t = 0; t < n_tile; ++t) {
      permute_x(x + (r0 + t) * w.n_in, w.n_in, n_blocks, scratch + t * n_padded);
      xp[t] = scratch + t * n_padded;
    }
    gemm_f32_tile<kTileF32>(w, xp, out_begin, out_end, out + r0 * w.n_out);
  }
}

}  // namespace bit_ttt::cpu
#endif
