// BitLinear (MODEL_SPEC.md §3) and its straight-through-estimator backward (§4).
//   in [n_rows, n_in], weight [n_out, n_in] (PyTorch order), out [n_rows, n_out]
//
//   W~ = weight.scale · weight.values, where values are either the ternary codes
//   Wq with scale β (the model) or the latent W itself with scale 1 ("identity"
//   quantization: the same graph made smooth, for finite-difference checks).
//   x~ = x (activation_quant none) or xq·γ/127 (int8, per row).
//   forward:  out = x~ · W~ᵀ
//   backward: d_in = d_out · W~          (STE: round/clamp of x treated as identity)
//             d_weight += d_outᵀ · x~    (STE: the latent W gets W~'s gradient)
//   No gradient flows through β or γ, and the clamps are not masked.
//
// The quantizers are the inference's own (ref::ternary_quantize, ref::int8_quantize_row)
// for float, so training and inference quantize identically.
#pragma once

#include <cstdint>

namespace bit_ttt::train {

template <typename T>
struct BitLinearWeight {
  const T* values = nullptr;  // [n_out, n_in]
  T scale = 1;                // W~ = scale · values
  int64_t n_out = 0;
  int64_t n_in = 0;
};

// codes = clamp(round(W/β), −1, 1) as T; returns β = max(mean|W|, 1e-5).
// `scratch` holds n int8 (float: the inference quantizer writes int8 codes).
template <typename T>
T ternary_quantize_weight(T* codes, const T* weight, int64_t n, int8_t* scratch);

// Per row: γ = max(max|x|, 1e-5), xq = clamp(round(x·127/γ), −128, 127), x~ = xq·γ/127.
// Writes xq (exact integers, as T), gamma [n_rows] and x_tilde (may alias in).
// `scratch` holds n_rows·n_in int8.
template <typename T>
void int8_quantize_activations(T* x_tilde, T* xq, T* gamma, const T* in, int64_t n_rows,
                               int64_t n_in, int8_t* scratch);

// out = x~ · W~ᵀ, computed as BitLlama::forward computes it:
//   float mode (gamma == nullptr, in = x):  out = scale · (x · valuesᵀ)
//   int8 mode  (in = xq, gamma [n_rows]):   out[r] = (scale·γ_r/127) · (xq · valuesᵀ)[r]
// (xq · codesᵀ sums small integers, which float adds exactly, as the integer kernel does.)
template <typename T>
void bit_linear_forward(T* out, const T* in, const T* gamma, const BitLinearWeight<T>& weight,
                        int64_t n_rows);

// d_in = d_out · W~ (overwritten, or added when accumulate_d_in: gate and up share
// their input); d_weight += d_outᵀ · x~.
template <typename T>
void bit_linear_backward(T* d_in, T* d_weight, const T* d_out, const T* x_tilde,
                         const BitLinearWeight<T>& weight, int64_t n_rows, bool accumulate_d_in);

}  // namespace bit_ttt::train
