// Absmax int8 quantization of a row for AVX-512, bit for bit ref::int8_quantize_row:
// the max is order-free, and q = x·127/γ is the same multiply then divide (no
// reciprocal), rounded by cvtps (MXCSR nearest-even, as std::nearbyint) and
// clamped by the saturating int32 → int8 narrowing.
#include "kernels/cpu/ternary_kernel_table.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>

#include <cstring>

namespace bit_ttt::cpu {
namespace {

inline __m512 abs_ps(__m512 v) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));
}

inline __m128i quantize16(__m512 x, __m512 gamma) {
  const __m512 q = _mm512_div_ps(_mm512_mul_ps(x, _mm512_set1_ps(127.0f)), gamma);
  return _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(q));
}

}  // namespace

float ternary_quantize_row_i8_avx512(const float* x, int64_t n, int8_t* xq) {
  // max(|x|, acc) with the accumulator second: a NaN x is skipped, as std::max does.
  __m512 max_vector = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    max_vector = _mm512_max_ps(abs_ps(_mm512_loadu_ps(x + i)), max_vector);
  float max_abs = _mm512_reduce_max_ps(max_vector);
  for (; i < n; ++i) {
    const float a = __builtin_fabsf(x[i]);
    max_abs = max_abs < a ? a : max_abs;
  }
  const float gamma = max_abs < 1e-5f ? 1e-5f : max_abs;
  const __m512 gamma_vector = _mm512_set1_ps(gamma);
  i = 0;
  for (; i + 16 <= n; i += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + i),
                     quantize16(_mm512_loadu_ps(x + i), gamma_vector));
  if (i < n) {  // the tail through a zero-padded copy, so it rounds the same way
    alignas(64) float rest[16] = {};
    alignas(16) int8_t rest_q[16];
    std::memcpy(rest, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm_store_si128(reinterpret_cast<__m128i*>(rest_q),
                    quantize16(_mm512_load_ps(rest), gamma_vector));
    std::memcpy(xq + i, rest_q, static_cast<size_t>(n - i));
  }
  return gamma;
}

}  // namespace bit_ttt::cpu
#endif
