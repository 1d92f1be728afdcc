#include "train/ops_cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"
#include "train/ops_math.h"

namespace bit_ttt::train {
namespace {

constexpr int64_t kRowGrain = 4;

// q = exp(z − shift); returns Σ q (in lanes, so the loop vectorises).
template <typename T>
T exp_shifted(T* q, const T* z, T shift, int64_t n) {
  constexpr int kLanes = 16;
  T lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int lane = 0; lane < kLanes; ++lane) {
      const T e = exp_fast(z[i + lane] - shift);
      q[i + lane] = e;
      lanes[lane] += e;
    }
  T sum = 0;
  for (; i < n; ++i) {
    q[i] = exp_fast(z[i] - shift);
    sum += q[i];
  }
  for (int lane = 0; lane < kLanes; ++lane) sum += lanes[lane];
  return sum;
}

// Softmax numerator of one row into q (may alias z); returns Σ and sets the loss.
template <typename T>
T softmax_row(T* q, T* loss, const T* z, int32_t target, int64_t n_vocab) {
  const T target_logit = z[target];  // before q (maybe z) is overwritten
  const T max_logit = max_value(z, n_vocab);
  const T sum = exp_shifted(q, z, max_logit, n_vocab);
  *loss = std::log(sum) + max_logit - target_logit;
  return sum;
}

}  // namespace

template <typename T>
void cross_entropy_forward(T* probs, T* losses, const T* logits, const int32_t* targets,
                           int64_t n_rows, int64_t n_vocab) {
  default_thread_pool().parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      if (targets[r] < 0) {
        losses[r] = 0;
        continue;
      }
      T* q = probs + r * n_vocab;
      const T inverse_sum =
          T(1) / softmax_row(q, losses + r, logits + r * n_vocab, targets[r], n_vocab);
      for (int64_t v = 0; v < n_vocab; ++v) q[v] *= inverse_sum;
    }
  });
}

template <typename T>
void cross_entropy_backward(T* d_logits, T d_loss, const T* probs, const int32_t* targets,
                            int64_t n_rows, int64_t n_vocab) {
  default_thread_pool().parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      T* d = d_logits + r * n_vocab;
      if (targets[r] < 0) {
        std::fill(d, d + n_vocab, T(0));
        continue;
      }
      const T* q = probs + r * n_vocab;
      for (int64_t v = 0; v < n_vocab; ++v) d[v] = d_loss * q[v];
      d[targets[r]] -= d_loss;
    }
  });
}

template <typename T>
void cross_entropy_forward_backward(T* d_logits, T* losses, const T* logits, const int32_t* targets,
                                    T d_loss, int64_t n_rows, int64_t n_vocab) {
  default_thread_pool().parallel_for(n_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      T* d = d_logits + r * n_vocab;
      if (targets[r] < 0) {
        losses[r] = 0;
        std::fill(d, d + n_vocab, T(0));
        continue;
      }
      const T scale =
          d_loss / softmax_row(d, losses + r, logits + r * n_vocab, targets[r], n_vocab);
      for (int64_t v = 0; v < n_vocab; ++v) d[v] *= scale;
      d[targets[r]] -= d_loss;
    }
  });
}

#define BIT_TTT_INSTANTIATE(T)                                                                  \
  template void cross_entropy_forward<T>(T*, T*, const T*, const int32_t*, int64_t, int64_t);   \
  template void cross_entropy_backward<T>(T*, T, const T*, const int32_t*, int64_t, int64_t);   \
  template void cross_entropy_forward_backward<T>(T*, T*, const T*, const int32_t*, T, int64_t, \
                                                  int64_t);
BIT_TTT_INSTANTIATE(float)
BIT_TTT_INSTANTIATE(double)
#undef BIT_TTT_INSTANTIATE

}  // namespace bit_ttt::train
