// Packed ternary (i2 / tq1) matrix × activation kernels with runtime ISA dispatch
// (kernels/cpu/isa.h). Formats: kernels/ref/ternary_packed_ref.h.
// Shapes: w [n_out, n_in]; x / xq [n_rows, n_in]; out [n_rows, n_out], row-major.
// Each call computes out[r, o] for every r < n_rows and o in [out_begin, out_end),
// so a thread pool splits the weight rows; n_rows > 1 is prefill (GEMM: each
// decoded weight block is reused across a tile of 4 rows of x; 1 for f32 on AVX2).
//
// int8 (spec activation_quant "int8"): out = Σ xq·Wq as int32, exact, so every ISA
// returns the same integers; the caller applies β·γ/127.
// f32 (spec "none"): out = Σ x·Wq (β not applied). Summation order is fixed per
// ISA, so results are deterministic and a row of a GEMM equals the GEMV of that row
// bit for bit, independent of n_rows and of the out range:
//   scalar: one accumulator in index order (= ref::dot_f32_ternary, bit for bit);
//   avx2 and avx512: 64 lane partials, lane = i mod 64 (i2) or
//   (i mod 160) mod 32 + 32·(digit k odd) (tq1), each summed in index order, then a
//   fixed pairwise tree. Both ISAs implement the same order: their results are
//   bit-identical too. Products with codes are exact (x·±1, x·0), so only the
//   order of additions differs from the scalar reference.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/ternary_kernel_table.h"
#include "kernels/ref/ternary_packed_ref.h"

namespace bit_ttt::cpu {

void ternary_gemm_i8(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                     int64_t out_begin, int64_t out_end, int32_t* out);
void ternary_gemm_f32(const TernaryMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                      int64_t out_end, float* out);
// n_rows = 1: out [n_out].
void ternary_gemv_i8(const TernaryMatrixView& w, const int8_t* xq, int64_t out_begin,
                     int64_t out_end, int32_t* out);
void ternary_gemv_f32(const TernaryMatrixView& w, const float* x, int64_t out_begin,
                      int64_t out_end, float* out);

// Absmax int8 quantization of one row; bit for bit ref::int8_quantize_row. Returns γ.
float ternary_quantize_row_i8(const float* x, int64_t n, int8_t* xq);

// The kernels of one ISA (tests and benchmarks); fails when it is not supported.
// For avx512 that is the VNNI table when the CPU has AVX512-VNNI.
const TernaryKernelTable& ternary_kernels(Isa isa);
// Every table this CPU and build can run, ascending (scalar, avx2, avx512,
// avx512vnni as supported), so tests also cover plain AVX-512 on a VNNI machine.
std::vector<const TernaryKernelTable*> runnable_ternary_kernel_tables();
// The kernels of active_isa().
const TernaryKernelTable& active_ternary_kernels();

}  // namespace bit_ttt::cpu
