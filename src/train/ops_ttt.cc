#include "train/ops_ttt.h"

#include <algorithm>
#include <cstring>

#include "core/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"
#include "train/ops_blas.h"

namespace bit_ttt::train {
namespace {

// One token: p = S f; S −= η (p − f) fᵀ.
void ttt_step(float* state, const float* f, int64_t d, float eta, float* p) {
  cpu::ttt_step(state, f, d, eta, p);
}
void ttt_step(double* state, const double* f, int64_t d, double eta, double* p) {
  for (int64_t r = 0; r < d; ++r) p[r] = dot(state + r * d, f, d);
  for (int64_t r = 0; r < d; ++r) axpy(state + r * d, -eta * (p[r] - f[r]), f, d);
}

// out += Mᵀ a for a d×d row-major M: M's rows scaled by a and summed.
template <typename T, int kD>
void add_transposed_product(T* __restrict out, const T* __restrict m, const T* __restrict a,
                            int64_t d_runtime) {
  const int64_t d = kD > 0 ? kD : d_runtime;
  for (int64_t r = 0; r < d; ++r) {
    const T coefficient = a[r];
    for (int64_t c = 0; c < d; ++c) out[c] += coefficient * m[r * d + c];
  }
}

// G += a f_tᵀ, then u = G f_prev and v = Gᵀ e: one pass over G.
template <typename T, int kD>
void update_and_project(T* __restrict G, const T* __restrict a, const T* __restrict f_t,
                        const T* __restrict f_prev, const T* __restrict e, T* __restrict u,
                        T* __restrict v, int64_t d_runtime) {
  const int64_t d = kD > 0 ? kD : d_runtime;
  for (int64_t c = 0; c < d; ++c) v[c] = 0;
  for (int64_t r = 0; r < d; ++r) {
    T* __restrict g = G + r * d;
    const T a_r = a[r], e_r = e[r];
    // The dot product sums in lanes so that the loop vectorises.
    constexpr int kLanes = 16;
    T lanes[kLanes] = {};
    int64_t c = 0;
    for (; c + kLanes <= d; c += kLanes)
      for (int lane = 0; lane < kLanes; ++lane) {
        const T x = g[c + lane] + a_r * f_t[c + lane];
        g[c + lane] = x;
        lanes[lane] += x * f_prev[c + lane];
        v[c + lane] += e_r * x;
      }
    T sum = 0;
    for (; c < d; ++c) {
      const T x = g[c] + a_r * f_t[c];
      g[c] = x;
      sum += x * f_prev[c];
      v[c] += e_r * x;
    }
    for (int lane = 0; lane < kLanes; ++lane) sum += lanes[lane];
    u[r] = sum;
  }
}

// Backward of one sequence (f, d_p, d_f point at its first token). `slot` is the
// thread's scratch: states S_0..S_T, predictions, G and four d-vectors.
template <typename T, int kD>
void backward_sequence(T* d_f, const T* d_p, const T* f, int64_t seq_len, int64_t d_runtime, T eta,
                       T* slot) {
  const int64_t d = kD > 0 ? kD : d_runtime;
  const int64_t dd = d * d;
  T* states = slot;                              // states[t] = S before token t
  T* predictions = states + (seq_len + 1) * dd;  // [seq_len, d]
  T* G = predictions + seq_len * d;              // ∂L/∂S after the current token
  T* e = G + dd;
  T* u = e + d;
  T* v = u + d;
  T* dp_total = v + d;

  // Re-run the forward scan with the forward's step function, keeping every state.
  std::fill(states, states + dd, T(0));
  for (int64_t t = 0; t < seq_len; ++t) {
    std::memcpy(states + (t + 1) * dd, states + t * dd, sizeof(T) * dd);
    ttt_step(states + (t + 1) * dd, f + t * d, d, eta, predictions + t * d);
  }

  // G_T = 0, so the last token's u = G f and v = Gᵀ e are 0.
  std::fill(G, G + dd, T(0));
  std::fill(u, u + d, T(0));
  std::fill(v, v + d, T(0));
  for (int64_t t = seq_len - 1; t >= 0; --t) {
    const T* f_t = f + t * d;
    const T* dp_t = d_p + t * d;
    T* df_t = d_f + t * d;
    for (int64_t i = 0; i < d; ++i) {
      dp_total[i] = dp_t[i] - eta * u[i];
      df_t[i] = eta * (u[i] - v[i]);
    }
    add_transposed_product<T, kD>(df_t, states + t * dd, dp_total, d);  // S_{t−1} in 1-based
    if (t == 0) break;
    // G_{t−1} = G_t + dp~ f_tᵀ, and the previous token's u and v from it.
    const T* f_prev = f + (t - 1) * d;
    const T* p_prev = predictions + (t - 1) * d;
    for (int64_t i = 0; i < d; ++i) e[i] = p_prev[i] - f_prev[i];
    update_and_project<T, kD>(G, dp_total, f_t, f_prev, e, u, v, d);
  }
}

// Runs fn(sequence, slot_scratch) for every sequence: one chunk per slot, slot j
// taking sequences j, j + n_slots, ... (so a slot's scratch is never shared).
template <typename T, typename Fn>
void for_each_sequence(int64_t n_seqs, int n_slots, T* scratch, int64_t slot_size, const Fn& fn) {
  const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(n_slots, n_seqs));
  default_thread_pool().parallel_for(slots, 1, [&](int64_t begin, int64_t end) {
    for (int64_t slot = begin; slot < end; ++slot)
      for (int64_t b = slot; b < n_seqs; b += slots) fn(b, scratch + slot * slot_size);
  });
}

}  // namespace

int64_t ttt_scan_forward_scratch_size(int64_t d, int n_slots) {
  return std::max(1, n_slots) * d * d;
}

int64_t ttt_scan_backward_scratch_size(int64_t seq_len, int64_t d, int n_slots) {
  // states S_0..S_T, predictions, G, and four d-vectors.
  return std::max(1, n_slots) * ((seq_len + 1) * d * d + seq_len * d + d * d + 4 * d);
}

template <typename T>
void ttt_scan_forward(T* p, const T* f, int64_t n_seqs, int64_t seq_len, int64_t d, T eta,
                      T* scratch, int n_slots) {
  for_each_sequence(n_seqs, n_slots, scratch, d * d, [&](int64_t b, T* state) {
    std::fill(state, state + d * d, T(0));
    const int64_t first = b * seq_len;
    for (int64_t t = 0; t < seq_len; ++t)
      ttt_step(state, f + (first + t) * d, d, eta, p + (first + t) * d);
  });
}

template <typename T>
void ttt_scan_backward(T* d_f, const T* d_p, const T* f, int64_t n_seqs, int64_t seq_len, int64_t d,
                       T eta, T* scratch, int n_slots) {
  const int64_t slot_size = (seq_len + 1) * d * d + seq_len * d + d * d + 4 * d;
  for_each_sequence(n_seqs, n_slots, scratch, slot_size, [&](int64_t b, T* slot) {
    const int64_t first = b * seq_len;
    // The common widths get their own instances: with d known at compile time the
    // d-long inner loops become a few unrolled vector operations.
    switch (d) {
      case 32:
        backward_sequence<T, 32>(d_f + first * d, d_p + first * d, f + first * d, seq_len, d, eta,
                                 slot);
        break;
      case 64:
        backward_sequence<T, 64>(d_f + first * d, d_p + first * d, f + first * d, seq_len, d, eta,
                                 slot);
        break;
      default:
        backward_sequence<T, 0>(d_f + first * d, d_p + first * d, f + first * d, seq_len, d, eta,
                                slot);
    }
  });
}

#define BIT_TTT_INSTANTIATE(T)                                                            \
  template void ttt_scan_forward<T>(T*, const T*, int64_t, int64_t, int64_t, T, T*, int); \
  template void ttt_scan_backward<T>(T*, const T*, const T*, int64_t, int64_t, int64_t, T, T*, int);
BIT_TTT_INSTANTIATE(float)
BIT_TTT_INSTANTIATE(double)
#undef BIT_TTT_INSTANTIATE

}  // namespace bit_ttt::train
