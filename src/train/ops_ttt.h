// The TTT scan (MODEL_SPEC.md §3): one d×d state per sequence, S_0 = 0.
//   f, p: [n_seqs·seq_len, d], row b·seq_len + t is token t of sequence b
//   p_t = S_{t−1} f_t
//   S_t = S_{t−1} − η (p_t − f_t) f_tᵀ
// Sequences are independent and run in parallel over the thread pool; within a
// sequence the recurrence is sequential.
//
// Backward (exact, through every S_t), with G_t = ∂L/∂S_t, G_T = 0, e_t = p_t − f_t:
//   u_t  = G_t f_t
//   dp~_t = d_p_t − η u_t                         (d_p plus the path through e_t)
//   d_f_t = −η G_tᵀ e_t + η u_t + S_{t−1}ᵀ dp~_t
//   G_{t−1} = G_t + dp~_t f_tᵀ
// It needs S_{t−1} for every t in reverse order. Undoing the update
// (S_{t−1} = S_t + η e_t f_tᵀ) would be exact in real arithmetic only: float
// rounding would drift over T steps. So the backward re-runs the forward scan of
// each sequence with the same step function and keeps its T states (T·d² values,
// 2 MB at T 128, d 64) in a per-thread scratch: the states are bit-identical to the
// forward's, and nothing of size T·d² per layer has to live across the whole pass.
#pragma once

#include <cstdint>

namespace bit_ttt::train {

// Values of scratch the scans need for `n_slots` threads.
int64_t ttt_scan_forward_scratch_size(int64_t d, int n_slots);
int64_t ttt_scan_backward_scratch_size(int64_t seq_len, int64_t d, int n_slots);

// Float uses the inference kernel's step (cpu::ttt_step), so p is bit-identical to
// BitLlama::forward's.
template <typename T>
void ttt_scan_forward(T* p, const T* f, int64_t n_seqs, int64_t seq_len, int64_t d, T eta,
                      T* scratch, int n_slots);

// d_f = ∂L/∂f (overwritten) from d_p = ∂L/∂p.
template <typename T>
void ttt_scan_backward(T* d_f, const T* d_p, const T* f, int64_t n_seqs, int64_t seq_len, int64_t d,
                       T eta, T* scratch, int n_slots);

}  // namespace bit_ttt::train
