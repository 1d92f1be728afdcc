// Elementwise math for the training ops' inner loops, written so that GCC
// vectorises them (glibc's expf is a scalar call, and without -ffast-math the
// compiler may not reorder float reductions): the float versions are plain
// arithmetic on lanes; the double versions (gradient checks) are the libm ones.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace bit_ttt::train {

// e^x for x ≤ 88 (larger x is clamped), relative error ≤ 2e-7: x = n·ln2 + r with
// |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial (remainder < 1.3e-7), 2^n
// through the exponent bits. Inputs below −87.3 give ~1e-38 instead of denormals.
// Used where the value feeds a gradient or a loss, never where the inference
// forward must be matched bit for bit (that uses the inference kernels).
inline float exp_fast(float x) {
  x = std::clamp(x, -87.3f, 88.0f);
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kRound = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  const float n = (x * kLog2e + kRound) - kRound;
  // ln2 split in two so n·ln2_hi is exact for |n| ≤ 128.
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t exponent_bits = (static_cast<int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(exponent_bits);
}
inline double exp_fast(double x) {
  return std::exp(x);
}

// max of x[0..n), n ≥ 1. (GCC will not turn a float max reduction into vmaxps
// without -ffinite-math-only, hence the intrinsics.)
inline float max_value(const float* x, int64_t n) {
  float result = x[0];
  int64_t i = 0;
#if defined(__AVX2__)
  if (n >= 32) {
    __m256 m0 = _mm256_loadu_ps(x), m1 = m0, m2 = m0, m3 = m0;
    for (; i + 32 <= n; i += 32) {
      m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
      m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + i + 8));
      m2 = _mm256_max_ps(m2, _mm256_loadu_ps(x + i + 16));
      m3 = _mm256_max_ps(m3, _mm256_loadu_ps(x + i + 24));
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
    for (float lane : lanes) result = std::max(result, lane);
  }
#endif
  for (; i < n; ++i) result = std::max(result, x[i]);
  return result;
}
inline double max_value(const double* x, int64_t n) {
  return *std::max_element(x, x + n);
}

}  // namespace bit_ttt::train
