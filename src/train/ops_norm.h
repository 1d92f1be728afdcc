// Normalisations of MODEL_SPEC.md §3, per row of a row-major [n_rows, dim] matrix.
//
//   RMSNorm:  out = in / sqrt(mean(in²) + eps) ⊙ weight          weight [dim]
//             saved: rstd [n_rows] = 1 / sqrt(mean(in²) + eps)
//   L2 norm:  out = in / (‖in‖₂ + eps)                           (the TTT feature f)
//             saved: norm [n_rows] = ‖in‖₂
//
// The float forwards use the inference kernels' arithmetic (cpu::dot_f32 sums in the
// same order, same division order), so training and BitLlama::forward normalise
// identically and int8 rounding downstream lands on the same side.
#pragma once

#include <cstdint>

namespace bit_ttt::train {

template <typename T>
void rms_norm_forward(T* out, T* rstd, const T* in, const T* weight, int64_t n_rows, int64_t dim,
                      T eps);
// d_in = ∂L/∂in (overwritten); d_weight += ∂L/∂weight.
//   d_in = rstd·(d_out⊙w) − in·rstd³·Σ(d_out⊙w⊙in)/dim,   d_weight += Σ_rows d_out⊙in·rstd
template <typename T>
void rms_norm_backward(T* d_in, T* d_weight, const T* d_out, const T* in, const T* weight,
                       const T* rstd, int64_t n_rows, int64_t dim);

template <typename T>
void l2_normalize_forward(T* out, T* norm, const T* in, int64_t n_rows, int64_t dim, T eps);
// The exact derivative of in / (‖in‖ + eps), written with the saved output f:
//   d_in = d_out/(‖in‖+eps) − f·(f·d_out)/‖in‖   (the second term is 0 when in = 0,
//   where ‖·‖ has no derivative; its subgradient 0 is used).
template <typename T>
void l2_normalize_backward(T* d_in, const T* d_out, const T* out, const T* norm, int64_t n_rows,
                           int64_t dim, T eps);

}  // namespace bit_ttt::train
