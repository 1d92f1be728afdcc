// Absmax int8 quantization of a row for AVX2, bit for bit ref::int8_quantize_row
// (same reasoning as ternary_quantize_avx512.cc; the narrowing saturates twice,
// int32 → int16 → int8, which clamps the same way).
#include "kernels/cpu/ternary_kernel_table.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <cstring>

namespace bit_ttt::cpu {
namespace {

inline __m256 abs_ps(__m256 v) {
  return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
}

inline __m256i quantize8(const float* x, __m256 gamma) {
  const __m256 q = _mm256_div_ps(_mm256_mul_ps(_mm256_loadu_ps(x), _mm256_set1_ps(127.0f)), gamma);
  return _mm256_cvtps_epi32(q);
}

// 32 floats → 32 int8 in order.
inline __m256i quantize32(const float* x, __m256 gamma) {
  const __m256i q01 = _mm256_packs_epi32(quantize8(x, gamma), quantize8(x + 8, gamma));
  const __m256i q23 = _mm256_packs_epi32(quantize8(x + 16, gamma), quantize8(x + 24, gamma));
  // packs interleaves 128-bit lanes: dwords come out as 0,2,4,6,1,3,5,7 (groups of 4 bytes).
  const __m256i bytes = _mm256_packs_epi16(q01, q23);
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

}  // namespace

float ternary_quantize_row_i8_avx2(const float* x, int64_t n, int8_t* xq) {
  // max(|x|, acc) with the accumulator second: a NaN x is skipped, as std::max does.
  __m256 max_vector = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) max_vector = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + i)), max_vector);
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(max_vector), _mm256_extractf128_ps(max_vector, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  float max_abs = _mm_cvtss_f32(m4);
  for (; i < n; ++i) {
    const float a = __builtin_fabsf(x[i]);
    max_abs = max_abs < a ? a : max_abs;
  }
  const float gamma = max_abs < 1e-5f ? 1e-5f : max_abs;
  const __m256 gamma_vector = _mm256_set1_ps(gamma);
  i = 0;
  for (; i + 32 <= n; i += 32)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(xq + i), quantize32(x + i, gamma_vector));
  if (i < n) {  // the tail through a zero-padded copy, so it rounds the same way
    alignas(32) float rest[32] = {};
    alignas(32) int8_t rest_q[32];
    std::memcpy(rest, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm256_store_si256(reinterpret_cast<__m256i*>(rest_q), quantize32(rest, gamma_vector));
    std::memcpy(xq + i, rest_q, static_cast<size_t>(n - i));
  }
  return gamma;
}

}  // namespace bit_ttt::cpu
#endif
