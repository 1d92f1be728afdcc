// Helpers shared by the AVX-512 ternary kernel files (only include from files
// built with the AVX-512 flags). Everything is `static inline`: internal linkage,
// so no copy compiled for AVX-512 can leak to other callers (ternary_kernel_table.h).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bit_ttt::cpu::avx512 {

// Weight rows are streamed once per call and the hardware prefetcher alone leaves
// DRAM bandwidth unused (4096² i2 int8 GEMV from DRAM, one thread: 310 → 255 µs),
// so the kernels ask for the line kPrefetchBytes ahead (about one row of a
// 4096-wide layer; 256..2048 measured alike).
inline constexpr int64_t kPrefetchBytes = 1024;
static inline void prefetch_ahead(const uint8_t* p) {
  // Integer arithmetic: the address may lie past the end of the buffer (no fault).
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p) + kPrefetchBytes),
               _MM_HINT_T0);
}

// Rows of x per GEMM tile: as many as keep the tile's activations within
// `budget_bytes` of L1 (each decoded weight block is reused by every row of the
// tile, but re-reading x from L2 costs more: 4096-wide f32, 4 rows = 64 KB ran
// 25% slower than 2 rows), at least 1 and at most `max_rows`. Results do not
// depend on it: every row has its own accumulators.
static inline int tile_rows(int64_t row_bytes, int64_t budget_bytes, int max_rows) {
  const int64_t rows = row_bytes > 0 ? budget_bytes / row_bytes : max_rows;
  return rows < 1 ? 1 : rows > max_rows ? max_rows : static_cast<int>(rows);
}

// Σ of 16 lanes in the tree shared with AVX2: lanes l + l+8, then l + l+4,
// l + l+2, l + l+1 (see ternary_simd_avx2.h: sum_lanes of two halves).
static inline float sum_lanes(__m512 v) {
  const __m256 low = _mm512_castps512_ps256(v);
  const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  const __m256 v8 = _mm256_add_ps(low, high);
  __m128 v4 = _mm_add_ps(_mm256_castps256_ps128(v8), _mm256_extractf128_ps(v8, 1));
  v4 = _mm_add_ps(v4, _mm_movehl_ps(v4, v4));
  v4 = _mm_add_ss(v4, _mm_movehdup_ps(v4));
  return _mm_cvtss_f32(v4);
}

// Σ of n int8 values (any order: integers).
static inline int32_t sum_i8(const int8_t* x, int64_t n) {
  // sad against 0 sums bytes as unsigned, so flip the sign bit (x + 128) and
  // subtract 128 per byte afterwards.
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc = _mm512_setzero_si512();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_xor_si512(_mm512_loadu_si512(x + i), flip);
    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, _mm512_setzero_si512()));
  }
  int64_t sum = _mm512_reduce_add_epi64(acc) - 128 * i;
  for (; i < n; ++i) sum += x[i];
  return static_cast<int32_t>(sum);
}

// Σ of 8 int32 lanes.
static inline int32_t sum_i32(__m256i v) {
  __m128i v4 = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  v4 = _mm_add_epi32(v4, _mm_shuffle_epi32(v4, 0x4e));
  v4 = _mm_add_epi32(v4, _mm_shuffle_epi32(v4, 0xb1));
  return _mm_cvtsi128_si32(v4);
}

// tq1 digits of 32 bytes: ⌊3m/256⌋ = [m ≥ 86] + [m ≥ 171] of each byte m, as 0/1/2
// (VL + BW compares into masks, then two masked moves). 256 bits: one tq1 block.
static inline __m256i tq1_digits(__m256i m) {
  const __mmask32 ge86 = _mm256_cmpge_epu8_mask(m, _mm256_set1_epi8(86));
  const __mmask32 ge171 = _mm256_cmpge_epu8_mask(m, _mm256_set1_epi8(static_cast<char>(171)));
  const __m256i one = _mm256_maskz_mov_epi8(ge86, _mm256_set1_epi8(1));
  return _mm256_mask_mov_epi8(one, ge171, _mm256_set1_epi8(2));
}

// m·3 mod 256 per byte (byte adds cannot carry into the neighbour).
static inline __m256i times3_u8(__m256i m) {
  return _mm256_add_epi8(_mm256_add_epi8(m, m), m);
}

}  // namespace bit_ttt::cpu::avx512
