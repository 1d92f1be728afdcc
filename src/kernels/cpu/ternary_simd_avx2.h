// Helpers shared by the AVX2 ternary kernel files (only include from files built
// with the AVX2 flags). Everything is `static inline`: internal linkage, so no
// copy compiled for AVX2 can leak to other callers (ternary_kernel_table.h).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bit_ttt::cpu::avx2 {

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

// Σ of 8 lanes: l + l+4, then l + l+2, l + l+1 (the tail of the AVX-512 tree).
static inline float sum_lanes(__m256 v8) {
  __m128 v4 = _mm_add_ps(_mm256_castps256_ps128(v8), _mm256_extractf128_ps(v8, 1));
  v4 = _mm_add_ps(v4, _mm_movehl_ps(v4, v4));
  v4 = _mm_add_ss(v4, _mm_movehdup_ps(v4));
  return _mm_cvtss_f32(v4);
}

static inline int32_t sum_i32(__m256i v) {
  __m128i v4 = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  v4 = _mm_add_epi32(v4, _mm_shuffle_epi32(v4, 0x4e));
  v4 = _mm_add_epi32(v4, _mm_shuffle_epi32(v4, 0xb1));
  return _mm_cvtsi128_si32(v4);
}

// Σ of n int8 values (sad sums bytes as unsigned: flip the sign bit, subtract 128 each).
static inline int32_t sum_i8(const int8_t* x, int64_t n) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256i acc = _mm256_setzero_si256();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v =
        _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), flip);
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, _mm256_setzero_si256()));
  }
  __m128i v2 = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  v2 = _mm_add_epi64(v2, _mm_unpackhi_epi64(v2, v2));
  int64_t sum = _mm_cvtsi128_si64(v2) - 128 * i;
  for (; i < n; ++i) sum += x[i];
  return static_cast<int32_t>(sum);
}

// tq1 digit ⌊3m/256⌋ = [m ≥ 86] + [m ≥ 171] of each byte m, as 0/1/2 (unsigned
// compare as max(m, c) == m; true lanes are -1, so subtract them).
static inline __m256i tq1_digits(__m256i m) {
  const __m256i ge86 = _mm256_cmpeq_epi8(_mm256_max_epu8(m, _mm256_set1_epi8(86)), m);
  const __m256i ge171 =
      _mm256_cmpeq_epi8(_mm256_max_epu8(m, _mm256_set1_epi8(static_cast<char>(171))), m);
  return _mm256_sub_epi8(_mm256_sub_epi8(_mm256_setzero_si256(), ge86), ge171);
}

// m·3 mod 256 per byte.
static inline __m256i times3_u8(__m256i m) {
  return _mm256_add_epi8(_mm256_add_epi8(m, m), m);
}

}  // namespace bit_ttt::cpu::avx2
