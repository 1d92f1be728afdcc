// The per-ISA function table behind kernels/cpu/ternary_kernels.h.
//
// Rule for the per-ISA files (*_avx2.cc, *_avx512.cc), which are compiled with
// extra -m flags: define everything in an anonymous namespace and call no inline
// function or template from a header other than the intrinsics (and no std::
// algorithms or containers). An inline function used there is emitted as a weak
// symbol compiled for that ISA, and the linker may pick that copy for every other
// caller too, which would then crash on an older CPU. Data types, constants and
// plain function declarations from headers are fine.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ref/ternary_packed_ref.h"

namespace bit_ttt::cpu {

// Signatures and contracts as in ternary_kernels.h (out_begin/out_end: weight rows).
using TernaryGemmI8Fn = void (*)(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                                 int64_t out_begin, int64_t out_end, int32_t* out);
using TernaryGemmF32Fn = void (*)(const TernaryMatrixView& w, const float* x, int64_t n_rows,
                                  int64_t out_begin, int64_t out_end, float* out);
using QuantizeRowI8Fn = float (*)(const float* x, int64_t n, int8_t* xq);

struct TernaryKernelTable {
  const char* name;
  TernaryGemmI8Fn gemm_i8[kNumTernaryFormats];    // indexed by TernaryFormat
  TernaryGemmF32Fn gemm_f32[kNumTernaryFormats];  // indexed by TernaryFormat
  QuantizeRowI8Fn quantize_row_i8;
};

// nullptr when that ISA's files were compiled without its flags (non-x86 builds).
const TernaryKernelTable* ternary_kernel_table_scalar();
const TernaryKernelTable* ternary_kernel_table_avx2();
const TernaryKernelTable* ternary_kernel_table_avx512();
const TernaryKernelTable* ternary_kernel_table_avx512vnni();  // needs CPUID avx512vnni too

// A per-thread, 64-byte aligned scratch buffer of at least n_bytes, valid until the
// next call on the same thread (the SIMD files must not own std::vector).
uint8_t* ternary_thread_scratch(size_t n_bytes);

// The kernels of each ISA file (defined only when compiled with that ISA's flags).
void ternary_gemm_i8_i2_avx2(const TernaryMatrixView&, const int8_t*, int64_t, int64_t, int64_t,
                             int32_t*);
void ternary_gemm_f32_i2_avx2(const TernaryMatrixView&, const float*, int64_t, int64_t, int64_t,
                              float*);
void ternary_gemm_i8_tq1_avx2(const TernaryMatrixView&, const int8_t*, int64_t, int64_t, int64_t,
                              int32_t*);
void ternary_gemm_f32_tq1_avx2(const TernaryMatrixView&, const float*, int64_t, int64_t, int64_t,
                               float*);
float ternary_quantize_row_i8_avx2(const float* x, int64_t n, int8_t* xq);

void ternary_gemm_i8_i2_avx512(const TernaryMatrixView&, const int8_t*, int64_t, int64_t, int64_t,
                               int32_t*);
void ternary_gemm_i8_i2_avx512vnni(const TernaryMatrixView&, const int8_t*, int64_t, int64_t,
                                   int64_t, int32_t*);
void ternary_gemm_f32_i2_avx512(const TernaryMatrixView&, const float*, int64_t, int64_t, int64_t,
                                float*);
void ternary_gemm_i8_tq1_avx512(const TernaryMatrixView&, const int8_t*, int64_t, int64_t, int64_t,
                                int32_t*);
void ternary_gemm_f32_tq1_avx512(const TernaryMatrixView&, const float*, int64_t, int64_t, int64_t,
                                 float*);
float ternary_quantize_row_i8_avx512(const float* x, int64_t n, int8_t* xq);

}  // namespace bit_ttt::cpu
