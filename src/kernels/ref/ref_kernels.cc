#include "kernels/ref/ref_kernels.h"

#include <algorithm>
#include <cmath>

namespace bit_ttt::ref {

void rms_norm_row(const float* x, const float* weight, float eps, int64_t n, float* y) {
  float sum_squares = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum_squares += x[i] * x[i];
  const float rms = std::sqrt(sum_squares / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / rms * weight[i];
}

float ternary_quantize(const float* weight, int64_t n, int8_t* codes) {
  // Sum in double: β must not depend on how a kernel orders a 10M-term sum.
  double sum_abs = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_abs += std::fabs(static_cast<double>(weight[i]));
  const float beta = std::max(static_cast<float>(sum_abs / static_cast<double>(n)), 1e-5f);
  for (int64_t i = 0; i < n; ++i) {
    const float scaled = std::nearbyint(weight[i] / beta);
    codes[i] = static_cast<int8_t>(std::clamp(scaled, -1.0f, 1.0f));
  }
  return beta;
}

float int8_quantize_row(const float* x, int64_t n, int8_t* xq) {
  float max_abs = 0.0f;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::fabs(x[i]));
  const float gamma = std::max(max_abs, 1e-5f);
  for (int64_t i = 0; i < n; ++i) {
    const float q = std::nearbyint(x[i] * 127.0f / gamma);
    xq[i] = static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
  }
  return gamma;
}

float dot_f32_ternary(const float* x, const int8_t* codes, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * static_cast<float>(codes[i]);
  return sum;
}

int32_t dot_i8_ternary(const int8_t* xq, const int8_t* codes, int64_t n) {
  int32_t sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<int32_t>(xq[i]) * codes[i];
  return sum;
}

float dot_f32(const float* x, const float* w, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * w[i];
  return sum;
}

void bit_linear_row_f32(const float* x, const int8_t* codes, float beta, int64_t n_out,
                        int64_t n_in, float* y) {
  for (int64_t o = 0; o < n_out; ++o) y[o] = beta * dot_f32_ternary(x, codes + o * n_in, n_in);
}

void bit_linear_row_i8(const float* x, const int8_t* codes, float beta, int64_t n_out,
                       int64_t n_in, int8_t* xq_scratch, float* y) {
  const float gamma = int8_quantize_row(x, n_in, xq_scratch);
  const float scale = beta * gamma / 127.0f;
  for (int64_t o = 0; o < n_out; ++o)
    y[o] = scale * static_cast<float>(dot_i8_ternary(xq_scratch, codes + o * n_in, n_in));
}

void swiglu_row(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void l2_normalize_row(float* k, int64_t n, float eps) {
  float sum_squares = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum_squares += k[i] * k[i];
  const float denominator = std::sqrt(sum_squares) + eps;
  for (int64_t i = 0; i < n; ++i) k[i] /= denominator;
}

void ttt_step(float* state, const float* f, int64_t d, float eta, float* p) {
  for (int64_t r = 0; r < d; ++r) p[r] = dot_f32(state + r * d, f, d);
  ttt_update(state, f, p, d, eta);
}

void ttt_update(float* state, const float* f, const float* p, int64_t d, float eta) {
  for (int64_t r = 0; r < d; ++r) {
    const float coefficient = eta * (p[r] - f[r]);
    float* state_row = state + r * d;
    for (int64_t c = 0; c < d; ++c) state_row[c] -= coefficient * f[c];
  }
}

}  // namespace bit_ttt::ref
