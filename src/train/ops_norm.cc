#include "train/ops_norm.h"

#include <cmath>

#include "core/thread_pool.h"
#include "train/ops_blas.h"

namespace bit_ttt::train {
namespace {
constexpr int64_t kRowGrain = 16;
}  // namespace

template <typename T>
void rms_norm_forward(T* out, T* rstd, const T* in, const T* weight, int64_t n_rows, int64_t dim,
                      T eps) {
  default_thread_pool().parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* x = in + r * dim;
      T* y = out + r * dim;
      // As cpu::rms_norm_row: divide by rms, then multiply by the weight.
      const T rms = std::sqrt(dot(x, x, dim) / static_cast<T>(dim) + eps);
      for (int64_t i = 0; i < dim; ++i) y[i] = x[i] / rms * weight[i];
      rstd[r] = T(1) / rms;
    }
  });
}

template <typename T>
void rms_norm_backward(T* d_in, T* d_weight, const T* d_out, const T* in, const T* weight,
                       const T* rstd, int64_t n_rows, int64_t dim) {
  ThreadPool& pool = default_thread_pool();
  pool.parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* x = in + r * dim;
      const T* dy = d_out + r * dim;
      T* dx = d_in + r * dim;
      T projection = 0;  // Σ dy⊙w⊙x
      for (int64_t i = 0; i < dim; ++i) projection += dy[i] * weight[i] * x[i];
      const T s = rstd[r];
      const T coefficient = s * s * s * projection / static_cast<T>(dim);
      for (int64_t i = 0; i < dim; ++i) dx[i] = s * dy[i] * weight[i] - x[i] * coefficient;
    }
  });
  // The weight gradient sums over rows: split by columns so each sum is one thread's
  // and runs in row order (deterministic for any thread count).
  pool.parallel_for(dim, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = 0; r < n_rows; ++r) {
      const T* x = in + r * dim;
      const T* dy = d_out + r * dim;
      const T s = rstd[r];
      for (int64_t i = begin; i < end; ++i) d_weight[i] += dy[i] * x[i] * s;
    }
  });
}

template <typename T>
void l2_normalize_forward(T* out, T* norm, const T* in, int64_t n_rows, int64_t dim, T eps) {
  default_thread_pool().parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* k = in + r * dim;
      T* f = out + r * dim;
      // As cpu::l2_normalize_row.
      const T length = std::sqrt(dot(k, k, dim));
      const T denominator = length + eps;
      for (int64_t i = 0; i < dim; ++i) f[i] = k[i] / denominator;
      norm[r] = length;
    }
  });
}

template <typename T>
void l2_normalize_backward(T* d_in, const T* d_out, const T* out, const T* norm, int64_t n_rows,
                           int64_t dim, T eps) {
  default_thread_pool().parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* f = out + r * dim;
      const T* df = d_out + r * dim;
      T* dk = d_in + r * dim;
      const T length = norm[r];
      const T inverse_denominator = T(1) / (length + eps);
      const T radial = length > 0 ? dot(f, df, dim) / length : T(0);
      for (int64_t i = 0; i < dim; ++i) dk[i] = df[i] * inverse_denominator - f[i] * radial;
    }
  });
}

#define BIT_TTT_INSTANTIATE(T)                                                                \
  template void rms_norm_forward<T>(T*, T*, const T*, const T*, int64_t, int64_t, T);         \
  template void rms_norm_backward<T>(T*, T*, const T*, const T*, const T*, const T*, int64_t, \
                                     int64_t);                                                \
  template void l2_normalize_forward<T>(T*, T*, const T*, int64_t, int64_t, T);               \
  template void l2_normalize_backward<T>(T*, const T*, const T*, const T*, int64_t, int64_t, T);
BIT_TTT_INSTANTIATE(float)
BIT_TTT_INSTANTIATE(double)
#undef BIT_TTT_INSTANTIATE

}  // namespace bit_ttt::train
