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
  const int64_t dd = d * d;
  const int64_t slot_size = (seq_len + 1) * dd + seq_len * d + dd + 4 * d;
  for_each_sequence(n_seqs, n_slots, scratch, slot_size, [&](int64_t b, T* slot) {
    T* states = slot;  // [seq_len + 1, d, d]; states[t] = S before token t
    T* predictions = states + (seq_len + 1) * dd;  // [seq_len, d]
    T* G = predictions + seq_len * d;              // ∂L/∂S after the current token
    T* e = G + dd;
    T* u = e + d;
    T* v = u + d;
    T* dp_total = v + d;
    const int64_t first = b * seq_len;

    // Re-run the forward scan, keeping every state.
    std::fill(states, states + dd, T(0));
    for (int64_t t = 0; t < seq_len; ++t) {
      std::memcpy(states + (t + 1) * dd, states + t * dd, sizeof(T) * dd);
      ttt_step(states + (t + 1) * dd, f + (first + t) * d, d, eta, predictions + t * d);
    }

    std::fill(G, G + dd, T(0));
    for (int64_t t = seq_len - 1; t >= 0; --t) {
      const T* f_t = f + (first + t) * d;
      const T* dp_t = d_p + (first + t) * d;
      const T* p_t = predictions + t * d;
      const T* S = states + t * dd;  // S_{t−1} in the spec's 1-based numbering
      T* df_t = d_f + (first + t) * d;
      for (int64_t i = 0; i < d; ++i) e[i] = p_t[i] - f_t[i];
      // u = G f and v = Gᵀ e in one pass over G.
      std::fill(v, v + d, T(0));
      for (int64_t r = 0; r < d; ++r) {
        u[r] = dot(G + r * d, f_t, d);
        axpy(v, e[r], G + r * d, d);
      }
      for (int64_t i = 0; i < d; ++i) {
        dp_total[i] = dp_t[i] - eta * u[i];
        df_t[i] = eta * (u[i] - v[i]);
      }
      // d_f += Sᵀ dp~ (S's rows scaled by dp~ and summed), then G += dp~ fᵀ.
      for (int64_t r = 0; r < d; ++r) axpy(df_t, dp_total[r], S + r * d, d);
      for (int64_t r = 0; r < d; ++r) axpy(G + r * d, dp_total[r], f_t, d);
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
