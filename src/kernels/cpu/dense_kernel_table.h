// The per-ISA function table behind kernels/cpu/dense_kernels.h. The per-ISA files
// (dense_avx2.cc, dense_avx512.cc) follow the rule of ternary_kernel_table.h:
// everything in an anonymous namespace, no inline function or template from a
// header other than the intrinsics and the `static inline` SIMD helpers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ref/dense_ref.h"

namespace bit_ttt::cpu {

// Signatures and contracts as in dense_kernels.h (out_begin/out_end: weight rows).
using DenseGemmFn = void (*)(const DenseMatrixView& w, const float* x, int64_t n_rows,
                             int64_t out_begin, int64_t out_end, float* out);
using DenseGemmI8Fn = void (*)(const DenseMatrixView& w, const int8_t* xq, const float* gammas,
                               int64_t n_rows, int64_t out_begin, int64_t out_end, float* out);
using DenseRowToF32Fn = void (*)(const DenseMatrixView& w, int64_t row, float* out);

struct DenseKernelTable {
  const char* name;                        // "scalar", "avx2", "avx512", "avx512vnni"
  DenseGemmFn gemm[kNumDenseFloatDTypes];  // indexed by DenseDType f32, f16, bf16
  DenseGemmI8Fn gemm_i8;                   // i8_row weights × int8 activations
  DenseRowToF32Fn row_to_f32;              // every dtype
};

// nullptr when that ISA's file was compiled without its flags (non-x86 builds).
// avx512vnni is the avx512 table with the int8 GEMM on VPDPBUSD; it may only run
// when cpu_features().avx512vnni (dense_kernels() checks).
const DenseKernelTable* dense_kernel_table_scalar();
const DenseKernelTable* dense_kernel_table_avx2();
const DenseKernelTable* dense_kernel_table_avx512();
const DenseKernelTable* dense_kernel_table_avx512vnni();

// A per-thread, 64-byte aligned scratch buffer of at least n_bytes, valid until the
// next call on the same thread (the SIMD files must not own std::vector).
uint8_t* dense_thread_scratch(size_t n_bytes);

}  // namespace bit_ttt::cpu
