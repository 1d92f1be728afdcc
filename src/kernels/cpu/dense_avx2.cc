// Dense f32 / f16 / bf16 / int8-row kernels for AVX2 + FMA + F16C (formats:
// kernels/ref/dense_ref.h; summation orders: kernels/cpu/dense_kernels.h).
//
// Float weights: blocks of 16 elements become two 8-float vectors (f16 by
// vcvtph2ps, bf16 by zero-extend + shift, both exact) and feed two FMA chains per
// (weight row, x row): lanes i mod 16 = 0..7 and 8..15, the same 16 partials as
// AVX-512's one 16-lane chain. 4 weight rows run side by side for one x row
// (8 accumulators), 2 × 2 for a GEMM tile, so each loaded x vector serves 4 or 2
// weight rows and each converted weight vector 1 or 2 x rows.
// int8 rows: vpmaddubsw(|x|, sign(q, x)) in blocks of 32 (see dense_kernels.h),
// |x| and x kept in a zero-padded per-thread copy of the tile.
#include "kernels/cpu/dense_kernel_table.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/ternary_simd_avx2.h"

namespace bit_ttt::cpu {
namespace {

constexpr int64_t kBlock = 16;    // float kernels: one partial per lane i mod 16
constexpr int64_t kBlockI8 = 32;  // int8 kernels: one ymm of codes
constexpr int kTile = 2;          // x rows per GEMM tile
// Activation bytes per tile: keeps the tile's x rows within L1 for wide matrices
// (the LM head, n_in ≤ 768, always gets the full tile).
constexpr int64_t kTileBytes = 32768;

template <DenseDType D>
constexpr int64_t element_bytes() {
  return D == DenseDType::f32 ? 4 : 2;
}

// 16 weights at p as floats, lanes 0..7 and 8..15.
template <DenseDType D>
inline void load_w16(const uint8_t* p, __m256& low, __m256& high) {
  if constexpr (D == DenseDType::f32) {
    low = _mm256_loadu_ps(reinterpret_cast<const float*>(p));
    high = _mm256_loadu_ps(reinterpret_cast<const float*>(p) + 8);
  } else if constexpr (D == DenseDType::f16) {
    low = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    high = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
  } else {
    const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    // Interleave with zeros below: bf16 b becomes the float with bits b << 16.
    // unpack works within 128-bit lanes, so restore element order with a permute.
    const __m256i ordered = _mm256_permute4x64_epi64(bits, 0xd8);  // 64-bit words 0, 2, 1, 3
    low = _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), ordered));
    high = _mm256_castsi256_ps(_mm256_unpackhi_epi16(_mm256_setzero_si256(), ordered));
  }
}

// out[t·n_out + o0 + j] for O weight rows from o0 and T x rows.
template <DenseDType D, int O, int T>
void gemm_block(const DenseMatrixView& w, const float* const x[], const float (*x_tail)[kBlock],
                int64_t o0, float* out) {
  constexpr int64_t kBytes = element_bytes<D>();
  const int64_t row_bytes = w.n_in * kBytes;
  const int64_t n_full = w.n_in / kBlock;
  const int64_t n_tail = w.n_in - n_full * kBlock;
  const uint8_t* rows[O];
  for (int j = 0; j < O; ++j) rows[j] = static_cast<const uint8_t*>(w.data) + (o0 + j) * row_bytes;
  __m256 acc[O][T][2];
  for (int j = 0; j < O; ++j)
    for (int t = 0; t < T; ++t) acc[j][t][0] = acc[j][t][1] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_full; ++b) {
    if ((b * kBlock * kBytes) % 64 == 0)
      for (int j = 0; j < O; ++j) avx2::prefetch_ahead(rows[j] + b * kBlock * kBytes);
    __m256 xv[T][2];
    for (int t = 0; t < T; ++t) {
      xv[t][0] = _mm256_loadu_ps(x[t] + b * kBlock);
      xv[t][1] = _mm256_loadu_ps(x[t] + b * kBlock + 8);
    }
    for (int j = 0; j < O; ++j) {
      __m256 low, high;
      load_w16<D>(rows[j] + b * kBlock * kBytes, low, high);
      for (int t = 0; t < T; ++t) {
        acc[j][t][0] = _mm256_fmadd_ps(xv[t][0], low, acc[j][t][0]);
        acc[j][t][1] = _mm256_fmadd_ps(xv[t][1], high, acc[j][t][1]);
      }
    }
  }
  if (n_tail > 0) {  // x and w zero padded to a whole block
    __m256 xv[T][2];
    for (int t = 0; t < T; ++t) {
      xv[t][0] = _mm256_loadu_ps(x_tail[t]);
      xv[t][1] = _mm256_loadu_ps(x_tail[t] + 8);
    }
    for (int j = 0; j < O; ++j) {
      alignas(32) uint8_t padded[kBlock * 4] = {};
      std::memcpy(padded, rows[j] + n_full * kBlock * kBytes, static_cast<size_t>(n_tail * kBytes));
      __m256 low, high;
      load_w16<D>(padded, low, high);
      for (int t = 0; t < T; ++t) {
        acc[j][t][0] = _mm256_fmadd_ps(xv[t][0], low, acc[j][t][0]);
        acc[j][t][1] = _mm256_fmadd_ps(xv[t][1], high, acc[j][t][1]);
      }
    }
  }
  for (int j = 0; j < O; ++j)
    for (int t = 0; t < T; ++t)
      out[t * w.n_out + o0 + j] = avx2::sum_lanes(_mm256_add_ps(acc[j][t][0], acc[j][t][1]));
}

template <DenseDType D, int O, int T>
void gemm_range(const DenseMatrixView& w, const float* const x[], const float (*x_tail)[kBlock],
                int64_t out_begin, int64_t out_end, float* out) {
  int64_t o = out_begin;
  for (; o + O <= out_end; o += O) gemm_block<D, O, T>(w, x, x_tail, o, out);
  for (; o < out_end; ++o) gemm_block<D, 1, T>(w, x, x_tail, o, out);
}

template <DenseDType D>
void gemm_float(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                int64_t out_end, float* out) {
  const int64_t n_full = w.n_in / kBlock;
  const int64_t n_tail = w.n_in - n_full * kBlock;
  const int max_tile = avx2::tile_rows(w.n_in * 4, kTileBytes, kTile);
  alignas(32) float x_tail[kTile][kBlock];
  for (int64_t r0 = 0; r0 < n_rows; r0 += max_tile) {
    const int n_tile = static_cast<int>(n_rows - r0 < max_tile ? n_rows - r0 : max_tile);
    const float* xs[kTile];
    for (int t = 0; t < n_tile; ++t) {
      xs[t] = x + (r0 + t) * w.n_in;
      std::memset(x_tail[t], 0, sizeof(x_tail[t]));
      if (n_tail > 0)
        std::memcpy(x_tail[t], xs[t] + n_full * kBlock, static_cast<size_t>(n_tail) * 4);
    }
    float* out_tile = out + r0 * w.n_out;
    if (n_tile == 1)
      gemm_range<D, 4, 1>(w, xs, x_tail, out_begin, out_end, out_tile);
    else
      gemm_range<D, 2, 2>(w, xs, x_tail, out_begin, out_end, out_tile);
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

// One x row of an int8 tile: x and |x|, zero padded to whole blocks.
struct RowI8 {
  const int8_t* x;
  const uint8_t* abs_x;
};

template <int O, int T>
void gemm_i8_block(const DenseMatrixView& w, const RowI8 rows_x[], const float gammas[], int64_t o0,
                   float* out) {
  const int64_t n_full = w.n_in / kBlockI8;
  const int64_t n_tail = w.n_in - n_full * kBlockI8;
  const int8_t* rows[O];
  for (int j = 0; j < O; ++j) rows[j] = static_cast<const int8_t*>(w.data) + (o0 + j) * w.n_in;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[O][T];
  for (int j = 0; j < O; ++j)
    for (int t = 0; t < T; ++t) acc[j][t] = _mm256_setzero_si256();
  auto step = [&](int64_t b, const __m256i q[O]) {
    for (int t = 0; t < T; ++t) {
      const __m256i xv = _mm256_load_si256(reinterpret_cast<const __m256i*>(rows_x[t].x) + b);
      const __m256i ax = _mm256_load_si256(reinterpret_cast<const __m256i*>(rows_x[t].abs_x) + b);
      for (int j = 0; j < O; ++j) {
        // |x|·(q·sign x) = x·q; pairs stay within ±2·128·127, no saturation.
        const __m256i pairs = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(q[j], xv));
        acc[j][t] = _mm256_add_epi32(acc[j][t], _mm256_madd_epi16(pairs, ones));
      }
    }
  };
  for (int64_t b = 0; b < n_full; ++b) {
    __m256i q[O];
    for (int j = 0; j < O; ++j) {
      if (b % 2 == 0)
        avx2::prefetch_ahead(reinterpret_cast<const uint8_t*>(rows[j] + b * kBlockI8));
      q[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[j] + b * kBlockI8));
    }
    step(b, q);
  }
  if (n_tail > 0) {
    __m256i q[O];
    for (int j = 0; j < O; ++j) {
      alignas(32) int8_t padded[kBlockI8] = {};
      std::memcpy(padded, rows[j] + n_full * kBlockI8, static_cast<size_t>(n_tail));
      q[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(padded));
    }
    step(n_full, q);
  }
  for (int j = 0; j < O; ++j)
    for (int t = 0; t < T; ++t) {
      const int32_t dot = avx2::sum_i32(acc[j][t]);
      out[t * w.n_out + o0 + j] =
          w.row_scales[o0 + j] * (gammas[t] / 127.0f) * static_cast<float>(dot);
    }
}

template <int O, int T>
void gemm_i8_range(const DenseMatrixView& w, const RowI8 rows_x[], const float gammas[],
                   int64_t out_begin, int64_t out_end, float* out) {
  int64_t o = out_begin;
  for (; o + O <= out_end; o += O) gemm_i8_block<O, T>(w, rows_x, gammas, o, out);
  for (; o < out_end; ++o) gemm_i8_block<1, T>(w, rows_x, gammas, o, out);
}

void gemm_i8(const DenseMatrixView& w, const int8_t* xq, const float* gammas, int64_t n_rows,
             int64_t out_begin, int64_t out_end, float* out) {
  const int64_t n_padded = (w.n_in + kBlockI8 - 1) / kBlockI8 * kBlockI8;
  uint8_t* scratch = dense_thread_scratch(static_cast<size_t>(2 * kTile * n_padded));
  const int max_tile = avx2::tile_rows(2 * n_padded, kTileBytes, kTile);
  for (int64_t r0 = 0; r0 < n_rows; r0 += max_tile) {
    const int n_tile = static_cast<int>(n_rows - r0 < max_tile ? n_rows - r0 : max_tile);
    RowI8 rows_x[kTile];
    for (int t = 0; t < n_tile; ++t) {
      int8_t* x = reinterpret_cast<int8_t*>(scratch + 2 * t * n_padded);
      uint8_t* abs_x = scratch + (2 * t + 1) * n_padded;
      std::memset(x, 0, static_cast<size_t>(n_padded));
      if (w.n_in > 0) std::memcpy(x, xq + (r0 + t) * w.n_in, static_cast<size_t>(w.n_in));
      for (int64_t i = 0; i < n_padded; i += kBlockI8) {
        const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(x + i));
        _mm256_store_si256(reinterpret_cast<__m256i*>(abs_x + i),
                           _mm256_abs_epi8(v));  // |-128| = 128 as u8
      }
      rows_x[t] = {x, abs_x};
    }
    float* out_tile = out + r0 * w.n_out;
    if (n_tile == 1)
      gemm_i8_range<4, 1>(w, rows_x, gammas + r0, out_begin, out_end, out_tile);
    else
      gemm_i8_range<4, 2>(w, rows_x, gammas + r0, out_begin, out_end, out_tile);
  }
}

void row_to_f32(const DenseMatrixView& w, int64_t row, float* out) {
  const int64_t n = w.n_in;
  const int64_t n_full = n / kBlock * kBlock;
  const size_t bytes = dense_element_bytes(w.dtype);
  const uint8_t* p = static_cast<const uint8_t*>(w.data) + row * n * static_cast<int64_t>(bytes);
  alignas(32) uint8_t padded[kBlock * 4] = {};
  alignas(32) float converted[kBlock];
  for (int64_t i = 0; i <= n_full; i += kBlock) {
    const int64_t count = i < n_full ? kBlock : n - n_full;
    if (count == 0) break;
    const uint8_t* src = p + i * static_cast<int64_t>(bytes);
    if (count < kBlock) {
      std::memcpy(padded, src, static_cast<size_t>(count) * bytes);
      src = padded;
    }
    __m256 low = _mm256_setzero_ps(), high = _mm256_setzero_ps();
    switch (w.dtype) {
      case DenseDType::f32:
        load_w16<DenseDType::f32>(src, low, high);
        break;
      case DenseDType::f16:
        load_w16<DenseDType::f16>(src, low, high);
        break;
      case DenseDType::bf16:
        load_w16<DenseDType::bf16>(src, low, high);
        break;
      case DenseDType::i8_row: {
        const __m256 scale = _mm256_set1_ps(w.row_scales[row]);
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
        low = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), scale);
        high = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8))), scale);
        break;
      }
    }
    if (count == kBlock) {
      _mm256_storeu_ps(out + i, low);
      _mm256_storeu_ps(out + i + 8, high);
    } else {
      _mm256_store_ps(converted, low);
      _mm256_store_ps(converted + 8, high);
      std::memcpy(out + i, converted, static_cast<size_t>(count) * sizeof(float));
    }
  }
}

const DenseKernelTable kTable = {
    "avx2",
    {gemm_f32, gemm_f16, gemm_bf16},
    gemm_i8,
    row_to_f32,
};

}  // namespace

const DenseKernelTable* dense_kernel_table_avx2() {
  return &kTable;
}

}  // namespace bit_ttt::cpu
#else
namespace bit_ttt::cpu {
const DenseKernelTable* dense_kernel_table_avx2() {
  return nullptr;
}
}  // namespace bit_ttt::cpu
#endif
