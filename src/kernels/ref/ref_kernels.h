// Plain scalar reference kernels: the test oracle for every fast kernel and the
// fallback. Written to be read against MODEL_SPEC.md §3, not to be fast.
// Shapes: x [n_rows, n_cols] row-major; linear weights [n_out, n_in] (PyTorch order).
#pragma once

#include <cstdint>

namespace bit_ttt::ref {

// y = x / sqrt(mean(x²) + eps) ⊙ weight, one row of n values.
void rms_norm_row(const float* x, const float* weight, float eps, int64_t n, float* y);

// β = max(mean(|W|), 1e-5); codes = clamp(round(W/β), -1, 1). Returns β.
float ternary_quantize(const float* weight, int64_t n, int8_t* codes);

// γ = max(max|x|, 1e-5); xq = clamp(round(x·127/γ), -128, 127). Returns γ.
float int8_quantize_row(const float* x, int64_t n, int8_t* xq);

// Dot products of one activation row with one ternary weight row.
float dot_f32_ternary(const float* x, const int8_t* codes, int64_t n);
int32_t dot_i8_ternary(const int8_t* xq, const int8_t* codes, int64_t n);
float dot_f32(const float* x, const float* w, int64_t n);

// BitLinear of one row: y[o] = β·Σ x~[i]·Wq[o,i] (float mode) or β·γ/127·Σ xq·Wq (int8 mode).
void bit_linear_row_f32(const float* x, const int8_t* codes, float beta, int64_t n_out,
                        int64_t n_in, float* y);
void bit_linear_row_i8(const float* x, const int8_t* codes, float beta, int64_t n_out,
                       int64_t n_in, int8_t* xq_scratch, float* y);

// out = silu(gate) ⊙ up, silu(z) = z·σ(z).
void swiglu_row(const float* gate, const float* up, int64_t n, float* out);

// f = k / (‖k‖₂ + eps), in place.
void l2_normalize_row(float* k, int64_t n, float eps);

// One TTT step on a d×d state (row-major): p = S f; S -= η (p − f) fᵀ.
void ttt_step(float* state, const float* f, int64_t d, float eta, float* p);
// The second half of a step, given p: S -= η (p − f) fᵀ.
void ttt_update(float* state, const float* f, const float* p, int64_t d, float eta);

}  // namespace bit_ttt::ref
