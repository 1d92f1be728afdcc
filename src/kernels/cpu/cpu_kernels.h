// CPU kernels used by the CPU backend: the reference math of kernels/ref with
// SIMD inner loops (AVX2 where compiled in, a portable unrolled loop otherwise).
// Each function computes every output with a fixed summation order that does
// not depend on the thread count or on how many rows are batched together, so
// streaming and batched prefill give bit-identical results.
// The packed 2-bit/1.6-bit ternary kernels with runtime ISA dispatch replace the
// int8-code dots here in a later step; the signatures stay.
#pragma once

#include <cstdint>

namespace bit_ttt::cpu {

float dot_f32(const float* x, const float* w, int64_t n);
float dot_f32_ternary(const float* x, const int8_t* codes, int64_t n);
int32_t dot_i8_ternary(const int8_t* xq, const int8_t* codes, int64_t n);

void rms_norm_row(const float* x, const float* weight, float eps, int64_t n, float* y);
float int8_quantize_row(const float* x, int64_t n, int8_t* xq);
void swiglu_row(const float* gate, const float* up, int64_t n, float* out);
void l2_normalize_row(float* k, int64_t n, float eps);
void ttt_step(float* state, const float* f, int64_t d, float eta, float* p);

// Name of the SIMD path compiled in ("avx2" or "generic").
const char* simd_name();

}  // namespace bit_ttt::cpu
