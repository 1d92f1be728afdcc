#include "train/ops_swiglu.h"

#include <cmath>

#include "core/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"
#include "train/ops_math.h"

namespace bit_ttt::train {
namespace {

constexpr int64_t kGrain = 4096;

void swiglu_span(float* out, const float* gate, const float* up, int64_t n) {
  cpu::swiglu_row(gate, up, n, out);
}
void swiglu_span(double* out, const double* gate, const double* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
}

}  // namespace

template <typename T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t n) {
  default_thread_pool().parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    swiglu_span(out + begin, gate + begin, up + begin, end - begin);
  });
}

template <typename T>
void swiglu_backward(T* d_gate, T* d_up, const T* d_out, const T* gate, const T* up, int64_t n) {
  default_thread_pool().parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T g = gate[i];
      const T sigmoid = T(1) / (T(1) + exp_fast(-g));
      const T d = d_out[i];
      d_up[i] = d * g * sigmoid;
      d_gate[i] = d * up[i] * sigmoid * (T(1) + g * (T(1) - sigmoid));
    }
  });
}

template void swiglu_forward<float>(float*, const float*, const float*, int64_t);
template void swiglu_forward<double>(double*, const double*, const double*, int64_t);
template void swiglu_backward<float>(float*, float*, const float*, const float*, const float*,
                                     int64_t);
template void swiglu_backward<double>(double*, double*, const double*, const double*, const double*,
                                      int64_t);

}  // namespace bit_ttt::train
