#include "kernels/cpu/cpu_kernels.h"

#include <algorithm>
#include <cmath>

#include "kernels/ref/ref_kernels.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define BIT_TTT_AVX2 1
#endif

namespace bit_ttt::cpu {

#if BIT_TTT_AVX2
namespace {
inline float horizontal_sum(__m256 v) {
  __m128 low = _mm256_castps256_ps128(v);
  __m128 high = _mm256_extractf128_ps(v, 1);
  low = _mm_add_ps(low, high);
  low = _mm_add_ps(low, _mm_movehl_ps(low, low));
  low = _mm_add_ss(low, _mm_movehdup_ps(low));
  return _mm_cvtss_f32(low);
}
inline int32_t horizontal_sum(__m256i v) {
  __m128i low = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  low = _mm_add_epi32(low, _mm_shuffle_epi32(low, 0x4e));
  low = _mm_add_epi32(low, _mm_shuffle_epi32(low, 0xb1));
  return _mm_cvtsi128_si32(low);
}
inline __m256 load_codes_as_f32(const int8_t* codes) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
}
}  // namespace

const char* simd_name() { return "avx2"; }

float dot_f32(const float* x, const float* w, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(w + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(w + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(w + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(w + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8)
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(w + i), acc0);
  float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += x[i] * w[i];
  return sum;
}

float dot_f32_ternary(const float* x, const int8_t* codes, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), load_codes_as_f32(codes + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), load_codes_as_f32(codes + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8)
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), load_codes_as_f32(codes + i), acc0);
  float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += x[i] * static_cast<float>(codes[i]);
  return sum;
}

int32_t dot_i8_ternary(const int8_t* xq, const int8_t* codes, int64_t n) {
  // Widen to int16 and use madd: exact for the full int8 range (the sign trick
  // with maddubs would overflow on xq = -128).
  __m256i acc = _mm256_setzero_si256();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i x16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xq + i)));
    const __m256i w16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x16, w16));
  }
  int32_t sum = horizontal_sum(acc);
  for (; i < n; ++i) sum += static_cast<int32_t>(xq[i]) * codes[i];
  return sum;
}
#else
const char* simd_name() { return "generic"; }

float dot_f32(const float* x, const float* w, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int lane = 0; lane < 8; ++lane) acc[lane] += x[i + lane] * w[i + lane];
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) sum += x[i] * w[i];
  return sum;
}

float dot_f32_ternary(const float* x, const int8_t* codes, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int lane = 0; lane < 8; ++lane)
      acc[lane] += x[i + lane] * static_cast<float>(codes[i + lane]);
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) sum += x[i] * static_cast<float>(codes[i]);
  return sum;
}

int32_t dot_i8_ternary(const int8_t* xq, const int8_t* codes, int64_t n) {
  return ref::dot_i8_ternary(xq, codes, n);
}
#endif

void rms_norm_row(const float* x, const float* weight, float eps, int64_t n, float* y) {
  const float sum_squares = dot_f32(x, x, n);
  const float rms = std::sqrt(sum_squares / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / rms * weight[i];
}

float int8_quantize_row(const float* x, int64_t n, int8_t* xq) {
  return ref::int8_quantize_row(x, n, xq);
}

#if BIT_TTT_AVX2
namespace {
// e^x for x in [-87, 88] (callers clamp): x = n·ln2 + r, |r| ≤ ln2/2, e^r by a
// degree-6 Taylor polynomial (relative error < 3e-7, a few float ulps), 2^n by
// building the exponent bits. std::exp per element was the largest serial cost
// of a decode step after the matmuls.
inline __m256 exp_ps(__m256 x) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504089f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);  // ln2 split in two
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);    // for exactness
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i exponent =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
}
}  // namespace
#endif

// SiLU(g)·u = g / (1 + e^-g) · u. Beyond |g| = 87 the clamp keeps e^-g finite:
// the result is then g·u (g > 0) or 0 to float precision, as with std::exp.
void swiglu_row(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
#if BIT_TTT_AVX2
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 minus_g =
        _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), g), _mm256_set1_ps(-87.0f)),
                      _mm256_set1_ps(87.0f));
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp_ps(minus_g)));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
#endif
  ref::swiglu_row(gate + i, up + i, n - i, out + i);
}

void l2_normalize_row(float* k, int64_t n, float eps) {
  const float denominator = std::sqrt(dot_f32(k, k, n)) + eps;
  for (int64_t i = 0; i < n; ++i) k[i] /= denominator;
}

void ttt_step(float* state, const float* f, int64_t d, float eta, float* p) {
  for (int64_t r = 0; r < d; ++r) p[r] = dot_f32(state + r * d, f, d);
  ref::ttt_update(state, f, p, d, eta);  // elementwise: the compiler vectorises it
}

}  // namespace bit_ttt::cpu

