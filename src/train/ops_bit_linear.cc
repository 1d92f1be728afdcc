#include "train/ops_bit_linear.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"
#include "kernels/ref/ref_kernels.h"
#include "train/ops_blas.h"

namespace bit_ttt::train {
namespace {

constexpr int64_t kRowGrain = 16;

float quantize_weight_codes(const float* weight, int64_t n, int8_t* codes) {
  return ref::ternary_quantize(weight, n, codes);
}
// The spec's definition in double (as the double-precision reference model does).
double quantize_weight_codes(const double* weight, int64_t n, int8_t* codes) {
  double sum_abs = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_abs += std::fabs(weight[i]);
  const double beta = std::max(sum_abs / static_cast<double>(n), 1e-5);
  for (int64_t i = 0; i < n; ++i)
    codes[i] = static_cast<int8_t>(std::clamp(std::nearbyint(weight[i] / beta), -1.0, 1.0));
  return beta;
}

float quantize_row_codes(const float* x, int64_t n, int8_t* xq) {
  return ref::int8_quantize_row(x, n, xq);
}
double quantize_row_codes(const double* x, int64_t n, int8_t* xq) {
  double max_abs = 0.0;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::fabs(x[i]));
  const double gamma = std::max(max_abs, 1e-5);
  for (int64_t i = 0; i < n; ++i)
    xq[i] = static_cast<int8_t>(std::clamp(std::nearbyint(x[i] * 127.0 / gamma), -128.0, 127.0));
  return gamma;
}

}  // namespace

template <typename T>
T ternary_quantize_weight(T* codes, const T* weight, int64_t n, int8_t* scratch) {
  const T beta = quantize_weight_codes(weight, n, scratch);
  for (int64_t i = 0; i < n; ++i) codes[i] = static_cast<T>(scratch[i]);
  return beta;
}

template <typename T>
void int8_quantize_activations(T* x_tilde, T* xq, T* gamma, const T* in, int64_t n_rows,
                               int64_t n_in, int8_t* scratch) {
  default_thread_pool().parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int8_t* codes = scratch + r * n_in;
      const T g = quantize_row_codes(in + r * n_in, n_in, codes);
      gamma[r] = g;
      T* q = xq + r * n_in;
      T* x = x_tilde + r * n_in;
      for (int64_t i = 0; i < n_in; ++i) {
        q[i] = static_cast<T>(codes[i]);
        x[i] = q[i] * g / T(127);
      }
    }
  });
}

template <typename T>
void bit_linear_forward(T* out, const T* in, const T* gamma, const BitLinearWeight<T>& weight,
                        int64_t n_rows) {
  const int64_t n_out = weight.n_out;
  if (gamma == nullptr) {
    gemm_nt(out, in, weight.values, n_rows, n_out, weight.n_in, weight.scale, T(0));
    return;
  }
  gemm_nt(out, in, weight.values, n_rows, n_out, weight.n_in, T(1), T(0));
  default_thread_pool().parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      // The inference's row scale, β·γ/127, applied to the exact integer sums.
      const T row_scale = weight.scale * gamma[r] / T(127);
      T* y = out + r * n_out;
      for (int64_t o = 0; o < n_out; ++o) y[o] = row_scale * y[o];
    }
  });
}

template <typename T>
void bit_linear_backward(T* d_in, T* d_weight, const T* d_out, const T* x_tilde,
                         const BitLinearWeight<T>& weight, int64_t n_rows, bool accumulate_d_in) {
  if (d_in != nullptr)
    gemm_nn(d_in, d_out, weight.values, n_rows, weight.n_in, weight.n_out, weight.scale,
            accumulate_d_in ? T(1) : T(0));
  gemm_tn(d_weight, d_out, x_tilde, weight.n_out, weight.n_in, n_rows, T(1), T(1));
}

#define BIT_TTT_INSTANTIATE(T)                                                                     \
  template T ternary_quantize_weight<T>(T*, const T*, int64_t, int8_t*);                           \
  template void int8_quantize_activations<T>(T*, T*, T*, const T*, int64_t, int64_t, int8_t*);     \
  template void bit_linear_forward<T>(T*, const T*, const T*, const BitLinearWeight<T>&, int64_t); \
  template void bit_linear_backward<T>(T*, T*, const T*, const T*, const BitLinearWeight<T>&,      \
                                       int64_t, bool);
BIT_TTT_INSTANTIATE(float)
BIT_TTT_INSTANTIATE(double)
#undef BIT_TTT_INSTANTIATE

}  // namespace bit_ttt::train
