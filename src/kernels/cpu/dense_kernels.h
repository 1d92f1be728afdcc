// Dense (f32 / f16 / bf16 / int8-per-row) matrix × activation kernels for the LM
// head and the embedding table, with runtime ISA dispatch (kernels/cpu/isa.h).
// Formats: kernels/ref/dense_ref.h.
// Shapes: w [n_out, n_in]; x / xq [n_rows, n_in]; out [n_rows, n_out], row-major.
// Each call computes out[r, o] for every r < n_rows and o in [out_begin, out_end),
// so a thread pool splits the weight rows; n_rows > 1 is prefill (GEMM: each
// weight block loaded is reused by a tile of x rows, up to 2 on AVX2 and 4 on
// AVX-512, while 4 weight rows run side by side; AVX2 float GEMM tiles use 2 × 2).
//
// Float weights (f32 / f16 / bf16, converted exactly to f32 in registers:
// F16C vcvtph2ps, bf16 as a 16-bit shift): out = Σ x·w. The summation order is
// fixed per ISA and depends on neither n_rows, the tile, nor the out range, so
// a row of a GEMM equals the GEMV of that row bit for bit (batched == streaming):
//   scalar: one accumulator in index order (= ref::dense_gemm, bit for bit);
//   avx2 and avx512: 16 lane partials p[i mod 16], each an FMA chain in index
//   order (the last partial block padded with x = 0, w = 0), then p[l] + p[l+8],
//   then + 4, + 2, + 1. Both ISAs use that order, so their results are
//   bit-identical too; only the order and the fused multiply-adds differ from
//   the scalar reference.
// int8 rows (i8_row): the dot product is exact int32 on every ISA, and
//   out = s_o·(γ/127)·dot in that order, so every ISA returns the same bits.
//   avx2 / avx512: vpmaddubsw(|x|, sign(q, x)) — |x| ≤ 128 fits unsigned and
//   |sign(q, x)| = |q| ≤ 127 never wraps (why codes are never -128), and a pair
//   of products stays within ±32512, so the int16 sums never saturate.
//   AVX-512 has no vpsignb: sign(q, x) is a masked subtract under x < 0.
//   avx512vnni: the same operands into vpdpbusd, which sums four products into
//   int32 without saturation, in place of maddubs + madd + add. (The x + 128
//   trick, vpdpbusd(x + 128, q) − 128·Σq, would need Σq per row: a second
//   vpdpbusd per weight block, on the one port VPDPBUSD issues to, or sums stored
//   with the format; x + 128 cannot feed vpmaddubsw at all, whose int16 pair sums
//   would saturate.)
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/dense_kernel_table.h"
#include "kernels/cpu/isa.h"
#include "kernels/ref/dense_ref.h"

namespace bit_ttt::cpu {

// Float activations, any dtype. For i8_row it quantizes x itself on each call
// (exactly dense_quantize_rows_i8 + dense_gemm_i8); a caller that splits the rows
// over threads should quantize once and call dense_gemm_i8.
void dense_gemm(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                int64_t out_end, float* out);
// n_rows = 1: out [n_out].
void dense_gemv(const DenseMatrixView& w, const float* x, int64_t out_begin, int64_t out_end,
                float* out);

// i8_row weights: xq [n_rows, n_in] and gammas [n_rows] from dense_quantize_rows_i8.
void dense_gemm_i8(const DenseMatrixView& w, const int8_t* xq, const float* gammas, int64_t n_rows,
                   int64_t out_begin, int64_t out_end, float* out);
// Absmax int8 quantization of each row of x, bit for bit ref::dense_quantize_rows_i8
// (= ref::int8_quantize_row per row, via the ternary kernels' SIMD quantizer).
void dense_quantize_rows_i8(const float* x, int64_t n_rows, int64_t n_in, int8_t* xq,
                            float* gammas);

// The embedding lookup: row `row` of w as float [n_in]. Exact conversions, so the
// same bits on every ISA (except a signalling NaN, which F16C returns quieted).
void dense_row_to_f32(const DenseMatrixView& w, int64_t row, float* out);

// The kernels of one ISA (tests and benchmarks); fails when it is not supported.
// For avx512 that is the VNNI table when the CPU has AVX512-VNNI.
const DenseKernelTable& dense_kernels(Isa isa);
// The kernels of active_isa().
const DenseKernelTable& active_dense_kernels();
// Every table this CPU and build can run, ascending: scalar, avx2, avx512 and
// avx512vnni as supported (so tests and benchmarks also cover the non-VNNI
// AVX-512 int8 path on a VNNI machine).
std::vector<const DenseKernelTable*> runnable_dense_kernel_tables();

}  // namespace bit_ttt::cpu
