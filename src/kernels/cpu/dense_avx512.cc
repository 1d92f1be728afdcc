// Dense f32 / f16 / bf16 / int8-row kernels for AVX-512 F/BW/VL (+ VNNI in the
// functions marked kVnni, which only run when CPUID reports AVX512-VNNI: see
// dense_kernels.cc). Formats: kernels/ref/dense_ref.h; summation orders:
// kernels/cpu/dense_kernels.h.
//
// Float weights: a block of 16 elements is one zmm (f16 by vcvtph2ps, bf16 by
// zero-extend + shift, both exact), one FMA chain per (weight row, x row) with
// lanes i mod 16, the order AVX2 follows with two ymm chains; the last partial
// block is a masked load (zeros), so nothing is read past a row.
// 4 weight rows × up to 4 x rows per block: 16 accumulators.
// int8 rows, blocks of 64 codes:
//   avx512: vpmaddubsw(|x|, sign(q, x)), the sign applied by a masked subtract
//   (AVX-512 has no vpsignb) under the x < 0 mask;
//   avx512vnni: the same operands into vpdpbusd (see dense_kernels.h).
#include "kernels/cpu/dense_kernel_table.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__FMA__) && \
    defined(__F16C__)
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/ternary_simd_avx512.h"

// VPDPBUSD is not in this file's baseline flags; the functions using it carry
// the target attribute, and dense_kernels.cc calls them only on a VNNI CPU.
#define BIT_TTT_VNNI __attribute__((target("avx512vnni")))

namespace bit_ttt::cpu {
namespace {

constexpr int64_t kBlock = 16;    // float kernels: one zmm, lane i mod 16
constexpr int64_t kBlockI8 = 64;  // int8 kernels: one zmm of codes
constexpr int kTile = 4;          // x rows per GEMM tile
constexpr int kRowsPerBlock = 4;  // weight rows side by side
// Activation bytes per tile: keeps the tile's x rows within L1 for wide matrices
// (the LM head, n_in ≤ 768, always gets the full tile).
constexpr int64_t kTileBytes = 32768;

template <DenseDType D>
constexpr int64_t element_bytes() {
  return D == DenseDType::f32 ? 4 : 2;
}

// `count` ≤ 16 weights at p as floats, zeros in the lanes at and above count.
template <DenseDType D>
inline __m512 load_w16(const uint8_t* p, __mmask16 mask) {
  if constexpr (D == DenseDType::f32) {
    return _mm512_maskz_loadu_ps(mask, p);
  } else if constexpr (D == DenseDType::f16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p));
  } else {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
}

template <DenseDType D>
inline __m512 load_w16(const uint8_t* p) {
  if constexpr (D == DenseDType::f32) {
    return _mm512_loadu_ps(p);
  } else if constexpr (D == DenseDType::f16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  } else {
    const __m512i wide =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
}

// sum_lanes of four accumulators at once, in exactly its order (l + l+8, + l+4,
// then l + l+2 and l + l+1 after a 4×4 transpose), stored to out[0..3].
inline void sum_lanes4(const __m512 acc[4], float* out) {
  __m128 v[4];
  for (int j = 0; j < 4; ++j) {
    const __m256 v8 = _mm256_add_ps(
        _mm512_castps512_ps256(acc[j]),
        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[j]), 1)));
    v[j] = _mm_add_ps(_mm256_castps256_ps128(v8), _mm256_extractf128_ps(v8, 1));
  }
  _MM_TRANSPOSE4_PS(v[0], v[1], v[2], v[3]);  // v[k] = lane k of the four rows
  _mm_storeu_ps(out, _mm_add_ps(_mm_add_ps(v[0], v[2]), _mm_add_ps(v[1], v[3])));
}

template <DenseDType D, int O, int T>
void gemm_block(const DenseMatrixView& w, const float* const x[], int64_t o0, float* out) {
  constexpr int64_t kBytes = element_bytes<D>();
  const int64_t row_bytes = w.n_in * kBytes;
  const int64_t n_full = w.n_in / kBlock;
  const int64_t n_tail = w.n_in - n_full * kBlock;
  const uint8_t* rows[O];
  for (int j = 0; j < O; ++j) rows[j] = static_cast<const uint8_t*>(w.data) + (o0 + j) * row_bytes;
  __m512 acc[O][T];
  for (int j = 0; j < O; ++j)
    for (int t = 0; t < T; ++t) acc[j][t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_full; ++b) {
    if ((b * kBlock * kBytes) % 64 == 0)
      for (int j = 0; j < O; ++j) avx512::prefetch_ahead(rows[j] + b * kBlock * kBytes);
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(x[t] + b * kBlock);
    for (int j = 0; j < O; ++j) {
      const __m512 wv = load_w16<D>(rows[j] + b * kBlock * kBytes);
      for (int t = 0; t < T; ++t) acc[j][t] = _mm512_fmadd_ps(xv[t], wv, acc[j][t]);
    }
  }
  if (n_tail > 0) {  // x and w read as zeros past n_in
    const __mmask16 mask = static_cast<__mmask16>((1u << n_tail) - 1);
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_ps(mask, x[t] + n_full * kBlock);
    for (int j = 0; j < O; ++j) {
      const __m512 wv = load_w16<D>(rows[j] + n_full * kBlock * kBytes, mask);
      for (int t = 0; t < T; ++t) acc[j][t] = _mm512_fmadd_ps(xv[t], wv, acc[j][t]);
    }
  }
  if constexpr (O % 4 == 0) {
    for (int t = 0; t < T; ++t)
      for (int j = 0; j < O; j += 4) {
        const __m512 column[4] = {acc[j][t], acc[j + 1][t], acc[j + 2][t], acc[j + 3][t]};
        sum_lanes4(column, out + t * w.n_out + o0 + j);
      }
  } else {
    for (int j = 0; j < O; ++j)
      for (int t = 0; t < T; ++t) out[t * w.n_out + o0 + j] = avx512::sum_lanes(acc[j][t]);
  }
}

template <DenseDType D, int T>
void gemm_range(const DenseMatrixView& w, const float* const x[], int64_t out_begin,
                int64_t out_end, float* out) {
  // A GEMV (T = 1) runs 8 weight rows side by side: 8 independent FMA chains
  // cover the FMA latency, which 4 cannot. Each row's own order is unchanged.
  constexpr int kRows = T == 1 ? 2 * kRowsPerBlock : kRowsPerBlock;
  int64_t o = out_begin;
  for (; o + kRows <= out_end; o += kRows) gemm_block<D, kRows, T>(w, x, o, out);
  for (; o < out_end; ++o) gemm_block<D, 1, T>(w, x, o, out);
}

template <DenseDType D>
void gemm_float(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                int64_t out_end, float* out) {
  const int max_tile = avx512::tile_rows(w.n_in * 4, kTileBytes, kTile);
  for (int64_t r0 = 0; r0 < n_rows; r0 += max_tile) {
    const int n_tile = static_cast<int>(n_rows - r0 < max_tile ? n_rows - r0 : max_tile);
    const float* xs[kTile];
    for (int t = 0; t < n_tile; ++t) xs[t] = x + (r0 + t) * w.n_in;
    float* out_tile = out + r0 * w.n_out;
    switch (n_tile) {
      case 1:
        gemm_range<D, 1>(w, xs, out_begin, out_end, out_tile);
        break;
      case 2:
        gemm_range<D, 2>(w, xs, out_begin, out_end, out_tile);
        break;
      case 3:
        gemm_range<D, 3>(w, xs, out_begin, out_end, out_tile);
        break;
      default:
        gemm_range<D, 4>(w, xs, out_begin, out_end, out_tile);
        break;
    }
  }
}

void gemm_f32(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
              int64_t out_end, float* out) {
  gemm_float<DenseDType::f32>(w, x, n_rows, out_begin, out_end, out);
}
void gemm_f16(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
              int64_t out_end, float* out) {
  gemm_float<DenseDType::f16>(w, x, n_rows, out_begin, out_end, out);
}
void gemm_bf16(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
               int64_t out_end, float* out) {
  gemm_float<DenseDType::bf16>(w, x, n_rows, out_begin, out_end, out);
}

// ---- int8 rows ----------------------------------------------------------------

// The x rows of an int8 tile, zero padded to whole blocks in per-thread scratch:
// `a` = |x| as unsigned bytes, `x` = x (its sign bits).
struct TileI8 {
  const uint8_t* a[kTile];
  const int8_t* x[kTile];
};

inline __m512i load_codes(const int8_t* row, int64_t b, int64_t n_in) {
  const int64_t left = n_in - b * kBlockI8;
  if (left >= kBlockI8) return _mm512_loadu_si512(row + b * kBlockI8);
  return _mm512_maskz_loadu_epi8((__mmask64{1} << left) - 1, row + b * kBlockI8);
}

inline void store_out(const DenseMatrixView& w, int64_t o, int t, const float gammas[], int32_t dot,
                      float* out) {
  out[t * w.n_out + o] = w.row_scales[o] * (gammas[t] / 127.0f) * static_cast<float>(dot);
}

// Four rows' results at once: the horizontal sums of acc[0..3] share one
// reduction tree, and the scaling s_o·(γ/127)·dot runs on four lanes in the same
// order as store_out, so the bits are the same. At n_in = 256 a row is only four
// blocks, so the per-row reduction used to cost as much as the dot products.
inline void store_out4(const DenseMatrixView& w, int64_t o0, int t, const float gammas[],
                       const __m512i acc[4], float* out) {
  __m128i q[4];
  for (int j = 0; j < 4; ++j) {
    const __m256i half =
        _mm256_add_epi32(_mm512_castsi512_si256(acc[j]), _mm512_extracti64x4_epi64(acc[j], 1));
    q[j] = _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
  }
  const __m128i dots = _mm_hadd_epi32(_mm_hadd_epi32(q[0], q[1]), _mm_hadd_epi32(q[2], q[3]));
  const __m128 scales =
      _mm_mul_ps(_mm_loadu_ps(w.row_scales + o0), _mm_set1_ps(gammas[t] / 127.0f));
  _mm_storeu_ps(out + t * w.n_out + o0, _mm_mul_ps(scales, _mm_cvtepi32_ps(dots)));
}

// acc[j][t] → out for every row j < O and tile row t.
template <int O, int T>
inline void store_block(const DenseMatrixView& w, int64_t o0, const float gammas[],
                        const __m512i (&acc)[O][T], float* out) {
  if constexpr (O == 4) {
    for (int t = 0; t < T; ++t) {
      const __m512i column[4] = {acc[0][t], acc[1][t], acc[2][t], acc[3][t]};
      store_out4(w, o0, t, gammas, column, out);
    }
  } else {
    for (int j = 0; j < O; ++j)
      for (int t = 0; t < T; ++t)
        store_out(w, o0 + j, t, gammas, _mm512_reduce_add_epi32(acc[j][t]), out);
  }
}

template <int O, int T>
void gemm_i8_block(const DenseMatrixView& w, const TileI8& tile, const float gammas[], int64_t o0,
                   float* out) {
  const int64_t n_blocks = (w.n_in + kBlockI8 - 1) / kBlockI8;
  const int8_t* rows[O];
  for (int j = 0; j < O; ++j) rows[j] = static_cast<const int8_t*>(w.data) + (o0 + j) * w.n_in;
  const __m512i ones = _mm512_set1_epi16(1);
  const __m512i zero = _mm512_setzero_si512();
  __m512i acc[O][T];
  for (int j = 0; j < O; ++j)
    for (int t = 0; t < T; ++t) acc[j][t] = _mm512_setzero_si512();
  for (int64_t b = 0; b < n_blocks; ++b) {
    __m512i q[O];
    for (int j = 0; j < O; ++j) {
      avx512::prefetch_ahead(reinterpret_cast<const uint8_t*>(rows[j] + b * kBlockI8));
      q[j] = load_codes(rows[j], b, w.n_in);
    }
    for (int t = 0; t < T; ++t) {
      const __m512i ax = _mm512_load_si512(tile.a[t] + b * kBlockI8);
      const __mmask64 negative = _mm512_movepi8_mask(_mm512_load_si512(tile.x[t] + b * kBlockI8));
      for (int j = 0; j < O; ++j) {
        // q·sign(x) (|q| ≤ 127: no wrap) times |x| ≤ 128: pairs within ±32512.
        const __m512i signed_q = _mm512_mask_sub_epi8(q[j], negative, zero, q[j]);
        const __m512i pairs = _mm512_maddubs_epi16(ax, signed_q);
        acc[j][t] = _mm512_add_epi32(acc[j][t], _mm512_madd_epi16(pairs, ones));
      }
    }
  }
  store_block<O, T>(w, o0, gammas, acc, out);
}

// The same sign trick as gemm_i8_block, with one vpdpbusd (four products summed
// into int32, no saturation) in place of maddubs + madd + add. Cheaper than
// vpdpbusd(x + 128, q) − 128·Σq: that needs a second vpdpbusd per weight block for
// Σq, and VPDPBUSD issues on one port while the masked subtract has two.
template <int O, int T>
BIT_TTT_VNNI void gemm_i8_block_vnni(const DenseMatrixView& w, const TileI8& tile,
                                     const float gammas[], int64_t o0, float* out) {
  const int64_t n_blocks = (w.n_in + kBlockI8 - 1) / kBlockI8;
  const int8_t* rows[O];
  for (int j = 0; j < O; ++j) rows[j] = static_cast<const int8_t*>(w.data) + (o0 + j) * w.n_in;
  const __m512i zero = _mm512_setzero_si512();
  __m512i acc[O][T];
  for (int j = 0; j < O; ++j)
    for (int t = 0; t < T; ++t) acc[j][t] = _mm512_setzero_si512();
  for (int64_t b = 0; b < n_blocks; ++b) {
    __m512i q[O];
    for (int j = 0; j < O; ++j) {
      avx512::prefetch_ahead(reinterpret_cast<const uint8_t*>(rows[j] + b * kBlockI8));
      q[j] = load_codes(rows[j], b, w.n_in);
    }
    for (int t = 0; t < T; ++t) {
      const __m512i ax = _mm512_load_si512(tile.a[t] + b * kBlockI8);
      const __mmask64 negative = _mm512_movepi8_mask(_mm512_load_si512(tile.x[t] + b * kBlockI8));
      for (int j = 0; j < O; ++j)
        acc[j][t] =
            _mm512_dpbusd_epi32(acc[j][t], ax, _mm512_mask_sub_epi8(q[j], negative, zero, q[j]));
    }
  }
  store_block<O, T>(w, o0, gammas, acc, out);
}

template <bool kVnni, int T>
void gemm_i8_range(const DenseMatrixView& w, const TileI8& tile, const float gammas[],
                   int64_t out_begin, int64_t out_end, float* out) {
  int64_t o = out_begin;
  if constexpr (kVnni) {
    for (; o + kRowsPerBlock <= out_end; o += kRowsPerBlock)
      gemm_i8_block_vnni<kRowsPerBlock, T>(w, tile, gammas, o, out);
    for (; o < out_end; ++o) gemm_i8_block_vnni<1, T>(w, tile, gammas, o, out);
  } else {
    for (; o + kRowsPerBlock <= out_end; o += kRowsPerBlock)
      gemm_i8_block<kRowsPerBlock, T>(w, tile, gammas, o, out);
    for (; o < out_end; ++o) gemm_i8_block<1, T>(w, tile, gammas, o, out);
  }
}

template <bool kVnni>
void gemm_i8_tiles(const DenseMatrixView& w, const int8_t* xq, const float* gammas, int64_t n_rows,
                   int64_t out_begin, int64_t out_end, float* out) {
  const int64_t n_padded = (w.n_in + kBlockI8 - 1) / kBlockI8 * kBlockI8;
  uint8_t* scratch = dense_thread_scratch(static_cast<size_t>(2 * kTile * n_padded));
  const int max_tile = avx512::tile_rows(2 * n_padded, kTileBytes, kTile);
  for (int64_t r0 = 0; r0 < n_rows; r0 += max_tile) {
    const int n_tile = static_cast<int>(n_rows - r0 < max_tile ? n_rows - r0 : max_tile);
    TileI8 tile;
    for (int t = 0; t < n_tile; ++t) {
      int8_t* x = reinterpret_cast<int8_t*>(scratch + 2 * t * n_padded);
      uint8_t* a = scratch + (2 * t + 1) * n_padded;
      std::memset(x, 0, static_cast<size_t>(n_padded));
      if (w.n_in > 0) std::memcpy(x, xq + (r0 + t) * w.n_in, static_cast<size_t>(w.n_in));
      for (int64_t i = 0; i < n_padded; i += kBlockI8) {
        // |x|, with |-128| = 128 read as unsigned.
        _mm512_store_si512(a + i, _mm512_abs_epi8(_mm512_load_si512(x + i)));
      }
      tile.x[t] = x;
      tile.a[t] = a;
    }
    float* out_tile = out + r0 * w.n_out;
    const float* gammas_tile = gammas + r0;
    switch (n_tile) {
      case 1:
        gemm_i8_range<kVnni, 1>(w, tile, gammas_tile, out_begin, out_end, out_tile);
        break;
      case 2:
        gemm_i8_range<kVnni, 2>(w, tile, gammas_tile, out_begin, out_end, out_tile);
        break;
      case 3:
        gemm_i8_range<kVnni, 3>(w, tile, gammas_tile, out_begin, out_end, out_tile);
        break;
      default:
        gemm_i8_range<kVnni, 4>(w, tile, gammas_tile, out_begin, out_end, out_tile);
        break;
    }
  }
}

void gemm_i8(const DenseMatrixView& w, const int8_t* xq, const float* gammas, int64_t n_rows,
             int64_t out_begin, int64_t out_end, float* out) {
  gemm_i8_tiles<false>(w, xq, gammas, n_rows, out_begin, out_end, out);
}

void gemm_i8_vnni(const DenseMatrixView& w, const int8_t* xq, const float* gammas, int64_t n_rows,
                  int64_t out_begin, int64_t out_end, float* out) {
  gemm_i8_tiles<true>(w, xq, gammas, n_rows, out_begin, out_end, out);
}

void row_to_f32(const DenseMatrixView& w, int64_t row, float* out) {
  const int64_t n = w.n_in;
  const int64_t bytes = static_cast<int64_t>(dense_element_bytes(w.dtype));
  const uint8_t* p = static_cast<const uint8_t*>(w.data) + row * n * bytes;
  const __m512 scale = _mm512_set1_ps(w.dtype == DenseDType::i8_row ? w.row_scales[row] : 1.0f);
  for (int64_t i = 0; i < n; i += kBlock) {
    const int64_t count = n - i < kBlock ? n - i : kBlock;
    const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1);
    const uint8_t* src = p + i * bytes;
    __m512 v;
    switch (w.dtype) {
      case DenseDType::f32:
        v = load_w16<DenseDType::f32>(src, mask);
        break;
      case DenseDType::f16:
        v = load_w16<DenseDType::f16>(src, mask);
        break;
      case DenseDType::bf16:
        v = load_w16<DenseDType::bf16>(src, mask);
        break;
      default:
        v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, src))),
                          scale);
        break;
    }
    _mm512_mask_storeu_ps(out + i, mask, v);
  }
}

const DenseKernelTable kTable = {
    "avx512",
    {gemm_f32, gemm_f16, gemm_bf16},
    gemm_i8,
    row_to_f32,
};

const DenseKernelTable kVnniTable = {
    "avx512vnni",
    {gemm_f32, gemm_f16, gemm_bf16},
    gemm_i8_vnni,
    row_to_f32,
};

}  // namespace

const DenseKernelTable* dense_kernel_table_avx512() {
  return &kTable;
}

const DenseKernelTable* dense_kernel_table_avx512vnni() {
  return &kVnniTable;
}

}  // namespace bit_ttt::cpu
#else
namespace bit_ttt::cpu {
const DenseKernelTable* dense_kernel_table_avx512() {
  return nullptr;
}
const DenseKernelTable* dense_kernel_table_avx512vnni() {
  return nullptr;
}
}  // namespace bit_ttt::cpu
#endif
