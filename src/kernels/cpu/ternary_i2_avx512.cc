// i2 × int8 and i2 × f32 kernels for AVX-512 F/BW/VL (layout: ternary_packed_ref.h).
//
// int8: one 64-byte load + shift/mask gives four runs of 64 digits u = code + 1;
// maddubs(u, x) multiplies unsigned digits by signed activations (no saturation:
// |u·x pair| ≤ 512) and Σ code·x = Σ u·x − Σ x. Exact for the whole int8 range.
// f32: each dword lane of a block holds 16 codes; vpermilps/vpermps use the low 2/4
// bits of each lane as a table index, turning a pair of bits straight into −1/0/+1
// floats, so x is permuted once per call to the order those lanes visit:
// lane l of group (b, k) is weight 4l + b + 64k of the block. Partial sums
// p[4l + b] = p[i mod 64] run in index order (ternary_kernels.h).
#include "kernels/cpu/ternary_kernel_table.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__FMA__)
#include <cstring>

#include "kernels/cpu/ternary_simd_avx512.h"

namespace bit_ttt::cpu {
namespace {

constexpr int64_t kBlock = kI2BlockWeights;  // 256 weights in 64 bytes
constexpr int kTileI8 = 4;                   // x rows sharing one decode of a block, at most
constexpr int kTileF32 = 4;
// Activation bytes per GEMM tile (tile_rows), measured on 4096-wide layers:
// int8 4 × 4 KB beat 8 × 4 KB; f32 2 × 16 KB beat 4 × 16 KB and 1 × 16 KB.
constexpr int64_t kTileBytesI8 = 16384;
constexpr int64_t kTileBytesF32 = 32768;

struct TileI8 {
  alignas(64) int8_t tail[kTileI8][kBlock];  // last partial block of each row, zero padded
  const int8_t* x[kTileI8];
  int32_t x_sum[kTileI8];
};

inline void decode_i8(const uint8_t* bytes, __m512i u[4]) {
  const __m512i packed = _mm512_loadu_si512(bytes);
  const __m512i mask = _mm512_set1_epi8(3);
  u[0] = _mm512_and_si512(packed, mask);
  u[1] = _mm512_and_si512(_mm512_srli_epi16(packed, 2), mask);
  u[2] = _mm512_and_si512(_mm512_srli_epi16(packed, 4), mask);
  u[3] = _mm512_and_si512(_mm512_srli_epi16(packed, 6), mask);
}

// Σ u·x over one block of one x row, as 16 int32 lanes.
inline __m512i block_dot_i8(const __m512i u[4], const int8_t* x) {
  const __m512i p0 = _mm512_maddubs_epi16(u[0], _mm512_loadu_si512(x));
  const __m512i p1 = _mm512_maddubs_epi16(u[1], _mm512_loadu_si512(x + 64));
  const __m512i p2 = _mm512_maddubs_epi16(u[2], _mm512_loadu_si512(x + 128));
  const __m512i p3 = _mm512_maddubs_epi16(u[3], _mm512_loadu_si512(x + 192));
  // Each int16 lane is within ±512, so four of them fit easily.
  const __m512i s = _mm512_add_epi16(_mm512_add_epi16(p0, p1), _mm512_add_epi16(p2, p3));
  return _mm512_madd_epi16(s, _mm512_set1_epi16(1));
}

template <int T>
void gemm_i8_tile(const TernaryMatrixView& w, const TileI8& tile, int64_t out_begin,
                  int64_t out_end, int32_t* out) {
  const int64_t n_full = w.n_in / kBlock;
  const bool has_tail = n_full * kBlock < w.n_in;
  for (int64_t o = out_begin; o < out_end; ++o) {
    const uint8_t* row = w.data + o * w.row_stride_bytes;
    __m512i acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_si512();
    for (int64_t b = 0; b < n_full; ++b) {
      avx512::prefetch_ahead(row + b * kI2BlockBytes);
      __m512i u[4];
      decode_i8(row + b * kI2BlockBytes, u);
      for (int t = 0; t < T; ++t)
        acc[t] = _mm512_add_epi32(acc[t], block_dot_i8(u, tile.x[t] + b * kBlock));
    }
    if (has_tail) {  // the zero-padded last block
      __m512i u[4];
      decode_i8(row + n_full * kI2BlockBytes, u);
      for (int t = 0; t < T; ++t) acc[t] = _mm512_add_epi32(acc[t], block_dot_i8(u, tile.tail[t]));
    }
    for (int t = 0; t < T; ++t)
      out[t * w.n_out + o] = _mm512_reduce_add_epi32(acc[t]) - tile.x_sum[t];
  }
}

// AVX512-VNNI: vpdpbusd multiplies the unsigned digits by the signed activations
// and accumulates four products per int32 lane in one instruction (no int16
// step). Four weight rows run side by side, so four independent accumulation
// chains hide the instruction's latency and their horizontal sums share one
// reduction tree; the decode GEMV of a narrow layer (one or four blocks per row)
// is dominated by that per-row work otherwise.
#define BIT_TTT_VNNI __attribute__((target("avx512vnni")))

BIT_TTT_VNNI inline __m512i block_dot_i8_vnni(__m512i acc, const __m512i u[4], const int8_t* x) {
  acc = _mm512_dpbusd_epi32(acc, u[0], _mm512_loadu_si512(x));
  acc = _mm512_dpbusd_epi32(acc, u[1], _mm512_loadu_si512(x + 64));
  acc = _mm512_dpbusd_epi32(acc, u[2], _mm512_loadu_si512(x + 128));
  return _mm512_dpbusd_epi32(acc, u[3], _mm512_loadu_si512(x + 192));
}

// The 16-lane sums of four accumulators, as four int32 in one register.
inline __m128i reduce4_epi32(const __m512i a[4]) {
  __m128i q[4];
  for (int r = 0; r < 4; ++r) {
    const __m256i half =
        _mm256_add_epi32(_mm512_castsi512_si256(a[r]), _mm512_extracti64x4_epi64(a[r], 1));
    q[r] = _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
  }
  return _mm_hadd_epi32(_mm_hadd_epi32(q[0], q[1]), _mm_hadd_epi32(q[2], q[3]));
}

template <int T>
BIT_TTT_VNNI void gemm_i8_tile_vnni(const TernaryMatrixView& w, const TileI8& tile,
                                    int64_t out_begin, int64_t out_end, int32_t* out) {
  const int64_t n_full = w.n_in / kBlock;
  const int64_t n_blocks = w.row_stride_bytes / kI2BlockBytes;  // n_full, + 1 with a tail
  auto x_block = [&](int t, int64_t b) {
    return b < n_full ? tile.x[t] + b * kBlock : tile.tail[t];
  };
  int64_t o = out_begin;
  for (; o + 4 <= out_end; o += 4) {
    const uint8_t* row = w.data + o * w.row_stride_bytes;
    __m512i acc[T][4];
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < 4; ++r) acc[t][r] = _mm512_setzero_si512();
    for (int64_t b = 0; b < n_blocks; ++b) {
      for (int r = 0; r < 4; ++r) {
        const uint8_t* block = row + r * w.row_stride_bytes + b * kI2BlockBytes;
        avx512::prefetch_ahead(block);
        __m512i u[4];
        decode_i8(block, u);
        for (int t = 0; t < T; ++t) acc[t][r] = block_dot_i8_vnni(acc[t][r], u, x_block(t, b));
      }
    }
    for (int t = 0; t < T; ++t) {
      const __m128i sums = _mm_sub_epi32(reduce4_epi32(acc[t]), _mm_set1_epi32(tile.x_sum[t]));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + t * w.n_out + o), sums);
    }
  }
  for (; o < out_end; ++o) {  // the last 1-3 rows
    const uint8_t* row = w.data + o * w.row_stride_bytes;
    __m512i acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_si512();
    for (int64_t b = 0; b < n_blocks; ++b) {
      __m512i u[4];
      decode_i8(row + b * kI2BlockBytes, u);
      for (int t = 0; t < T; ++t) acc[t] = block_dot_i8_vnni(acc[t], u, x_block(t, b));
    }
    for (int t = 0; t < T; ++t)
      out[t * w.n_out + o] = _mm512_reduce_add_epi32(acc[t]) - tile.x_sum[t];
  }
}

// x permuted to the lane order of decode group g = 4b + k: xp[g·16 + l] = x[4l + b + 64k].
void permute_x(const float* x, int64_t n_in, int64_t n_blocks, float* xp) {
  for (int64_t blk = 0; blk < n_blocks; ++blk) {
    const int64_t base = blk * kBlock;
    float* out = xp + base;
    if (base + kBlock <= n_in) {
      for (int b = 0; b < 4; ++b)
        for (int k = 0; k < 4; ++k) {
          // 16 floats with stride 4 from x[base + 64k + b].
          const __m512i index =
              _mm512_set_epi32(60, 56, 52, 48, 44, 40, 36, 32, 28, 24, 20, 16, 12, 8, 4, 0);
          _mm512_storeu_ps(out + (4 * b + k) * 16,
                           _mm512_i32gather_ps(index, x + base + 64 * k + b, 4));
        }
    } else {
      for (int b = 0; b < 4; ++b)
        for (int k = 0; k < 4; ++k)
          for (int l = 0; l < 16; ++l) {
            const int64_t i = base + 4 * l + b + 64 * k;
            out[(4 * b + k) * 16 + l] = i < n_in ? x[i] : 0.0f;
          }
    }
  }
}

template <int T>
void gemm_f32_tile(const TernaryMatrixView& w, const float* const xp[], int64_t out_begin,
                   int64_t out_end, float* out) {
  const int64_t n_blocks = w.row_stride_bytes / kI2BlockBytes;
  // vpermilps indexes 4 entries per 128-bit lane with bits [1:0]; vpermps indexes
  // 16 entries with bits [3:0], so its table repeats each code 4 times to decode
  // bits [3:2]. Digit u → code u − 1; u = 3 never occurs.
  const __m512 table_low = _mm512_setr_ps(-1, 0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0);
  const __m512 table_high = _mm512_setr_ps(-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0);
  for (int64_t o = out_begin; o < out_end; ++o) {
    const uint8_t* row = w.data + o * w.row_stride_bytes;
    __m512 acc[T][4];
    for (int t = 0; t < T; ++t)
      for (int b = 0; b < 4; ++b) acc[t][b] = _mm512_setzero_ps();
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      avx512::prefetch_ahead(row + blk * kI2BlockBytes);
      const __m512i packed = _mm512_loadu_si512(row + blk * kI2BlockBytes);
      for (int b = 0; b < 4; ++b) {
        for (int half = 0; half < 2; ++half) {  // pairs k = 2·half and 2·half + 1
          const __m512i bits = _mm512_srli_epi32(packed, 8 * b + 4 * half);
          const __m512 code_even = _mm512_permutevar_ps(table_low, bits);
          const __m512 code_odd = _mm512_permutexvar_ps(bits, table_high);
          const int64_t offset = blk * kBlock + (4 * b + 2 * half) * 16;
          for (int t = 0; t < T; ++t) {
            acc[t][b] = _mm512_fmadd_ps(_mm512_loadu_ps(xp[t] + offset), code_even, acc[t][b]);
            acc[t][b] = _mm512_fmadd_ps(_mm512_loadu_ps(xp[t] + offset + 16), code_odd, acc[t][b]);
          }
        }
      }
    }
    for (int t = 0; t < T; ++t) {
      const __m512 sum =
          _mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]), _mm512_add_ps(acc[t][2], acc[t][3]));
      out[t * w.n_out + o] = avx512::sum_lanes(sum);
    }
  }
}

// Runs `tile_fn<T>` over tiles of up to kTileI8 activation rows.
template <template <int> class TileFn>
void gemm_i8_tiles(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows, int64_t out_begin,
                   int64_t out_end, int32_t* out) {
  TileI8 tile;
  const int64_t n_full = w.n_in / kBlock;
  const int64_t n_tail = w.n_in - n_full * kBlock;
  const int max_tile = avx512::tile_rows(w.row_stride_bytes * 4, kTileBytesI8, kTileI8);
  for (int64_t r0 = 0; r0 < n_rows; r0 += max_tile) {
    const int n_tile = static_cast<int>(n_rows - r0 < max_tile ? n_rows - r0 : max_tile);
    for (int t = 0; t < n_tile; ++t) {
      const int8_t* x = xq + (r0 + t) * w.n_in;
      tile.x[t] = x;
      std::memset(tile.tail[t], 0, sizeof(tile.tail[t]));
      if (n_tail > 0) std::memcpy(tile.tail[t], x + n_full * kBlock, static_cast<size_t>(n_tail));
      tile.x_sum[t] = avx512::sum_i8(x, w.n_in);
    }
    int32_t* out_tile = out + r0 * w.n_out;
    switch (n_tile) {
      case 1:
        TileFn<1>::run(w, tile, out_begin, out_end, out_tile);
        break;
      case 2:
        TileFn<2>::run(w, tile, out_begin, out_end, out_tile);
        break;
      case 3:
        TileFn<3>::run(w, tile, out_begin, out_end, out_tile);
        break;
      default:
        TileFn<4>::run(w, tile, out_begin, out_end, out_tile);
        break;
    }
  }
}

template <int T>
struct PlainTile {
  static void run(const TernaryMatrixView& w, const TileI8& tile, int64_t begin, int64_t end,
                  int32_t* out) {
    gemm_i8_tile<T>(w, tile, begin, end, out);
  }
};
template <int T>
struct VnniTile {
  static void run(const TernaryMatrixView& w, const TileI8& tile, int64_t begin, int64_t end,
                  int32_t* out) {
    gemm_i8_tile_vnni<T>(w, tile, begin, end, out);
  }
};

}  // namespace

void ternary_gemm_i8_i2_avx512(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                               int64_t out_begin, int64_t out_end, int32_t* out) {
  gemm_i8_tiles<PlainTile>(w, xq, n_rows, out_begin, out_end, out);
}

// Only in the avx512vnni table, which dispatch picks when CPUID reports AVX512-VNNI.
void ternary_gemm_i8_i2_avx512vnni(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                                   int64_t out_begin, int64_t out_end, int32_t* out) {
  gemm_i8_tiles<VnniTile>(w, xq, n_rows, out_begin, out_end, out);
}

void ternary_gemm_f32_i2_avx512(const TernaryMatrixView& w, const float* x, int64_t n_rows,
                                int64_t out_begin, int64_t out_end, float* out) {
  const int64_t n_blocks = w.row_stride_bytes / kI2BlockBytes;
  const int64_t n_padded = n_blocks * kBlock;
  float* scratch = reinterpret_cast<float*>(
      ternary_thread_scratch(static_cast<size_t>(kTileF32 * n_padded) * sizeof(float)));
  const int max_tile = avx512::tile_rows(n_padded * 4, kTileBytesF32, kTileF32);
  for (int64_t r0 = 0; r0 < n_rows; r0 += max_tile) {
    const int n_tile = static_cast<int>(n_rows - r0 < max_tile ? n_rows - r0 : max_tile);
    const float* xp[kTileF32];
    for (int t = 0; t < n_tile; ++t) {
      permute_x(x + (r0 + t) * w.n_in, w.n_in, n_blocks, scratch + t * n_padded);
      xp[t] = scratch + t * n_padded;
    }
    float* out_tile = out + r0 * w.n_out;
    switch (n_tile) {
      case 1:
        gemm_f32_tile<1>(w, xp, out_begin, out_end, out_tile);
        break;
      case 2:
        gemm_f32_tile<2>(w, xp, out_begin, out_end, out_tile);
        break;
      case 3:
        gemm_f32_tile<3>(w, xp, out_begin, out_end, out_tile);
        break;
      default:
        gemm_f32_tile<4>(w, xp, out_begin, out_end, out_tile);
        break;
    }
  }
}

}  // namespace bit_ttt::cpu
#endif
