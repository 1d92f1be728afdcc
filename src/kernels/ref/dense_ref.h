// Dense weight storage for the embedding table and the LM head (f32 / f16 / bf16 /
// int8 with one scale per row) and its plain scalar kernels: the definition of
// each format and the test oracle of the SIMD kernels in kernels/cpu/dense_*.
// Shapes: w [n_out, n_in] row-major (PyTorch order; the LM head is [V, D], the
// embedding table [V, D] too); x [n_rows, n_in]; out [n_rows, n_out], row-major.
//
// f16 / bf16 elements are the IEEE half / bfloat16 bit patterns (uint16_t), with
// the scalar conversions of core/dtype.h (round to nearest even; NaN stays NaN).
// i8_row: codes q int8 [n_out, n_in] in [-127, 127] (never -128: the AVX2 kernel
// multiplies with a sign trick that needs |q| ≤ 127) and row_scales [n_out], so
// W[o, i] ≈ row_scales[o]·q[o, i]. The head then runs with int8 activations too
// (the VNNI path): x is quantized per row exactly like ref::int8_quantize_row,
// the dot product is exact int32, and out = s_o·(γ/127)·dot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/ref/ternary_packed_ref.h"  // AlignedBytes

namespace bit_ttt {

enum class DenseDType : uint8_t { f32, f16, bf16, i8_row };
inline constexpr int kNumDenseDTypes = 4;
inline constexpr int kNumDenseFloatDTypes = 3;  // f32, f16, bf16: the float-activation kernels

std::string_view dense_dtype_name(DenseDType dtype);  // "f32" | "f16" | "bf16" | "int8"
DenseDType parse_dense_dtype(std::string_view name);  // fails on any other name, listing them
size_t dense_element_bytes(DenseDType dtype);         // 4, 2, 2, 1

// What the kernels read: rows anywhere in memory (an owned DenseMatrix or a mapped
// file). Alignment is not required for correctness, only for speed.
struct DenseMatrixView {
  DenseDType dtype = DenseDType::f32;
  int64_t n_out = 0;
  int64_t n_in = 0;
  const void* data = nullptr;         // row-major n_out × n_in elements of dtype
  const float* row_scales = nullptr;  // i8_row only: [n_out]
};

struct DenseMatrix {
  DenseDType dtype = DenseDType::f32;
  int64_t n_out = 0;
  int64_t n_in = 0;
  AlignedBytes data;              // n_out·n_in·dense_element_bytes(dtype), 64-byte aligned
  std::vector<float> row_scales;  // i8_row only: [n_out]

  DenseMatrixView view() const {
    return {dtype, n_out, n_in, data.data(), row_scales.empty() ? nullptr : row_scales.data()};
  }
  operator DenseMatrixView() const { return view(); }  // NOLINT: kernels take either
};

// w float [n_out, n_in] → storage of `dtype`:
//   f32: a copy; f16: IEEE half, round to nearest even (overflow → ±inf, subnormals,
//   NaN stays NaN); bf16: the upper 16 bits rounded to nearest even (NaN stays NaN);
//   i8_row: s_o = max_i |w[o, i]|/127 (a zero row: scale 0, codes 0),
//   q = round-half-away-from-zero(w/s_o) clamped to ±127. Fails on a non-finite
//   weight for i8_row (it would poison the whole row's scale).
DenseMatrix convert_dense(DenseDType dtype, const float* w, int64_t n_out, int64_t n_in);

// Checks storage from outside (a file): n_bytes matches the shape, i8_row has its
// scales and no code -128. Fails with a message naming `what`.
void validate_dense_matrix(const DenseMatrixView& w, size_t n_bytes, std::string_view what);

// Round-half-away quantization of one row: returns s = max|w|/127 and fills q [n].
float dense_quantize_row_i8(const float* w, int64_t n, int8_t* q);

namespace ref {

// Row `row` of w as float [n_in] (the embedding lookup); i8_row gives q·s_o.
void dense_row_to_f32(const DenseMatrixView& w, int64_t row, float* out);

// The activation side of the i8_row head, run once per call (not per weight range):
// for each row r, gammas[r] = γ and xq [n_rows, n_in] = ref::int8_quantize_row.
void dense_quantize_rows_i8(const float* x, int64_t n_rows, int64_t n_in, int8_t* xq,
                            float* gammas);

// out[r·n_out + o] for every r < n_rows and o in [out_begin, out_end).
// f32 / f16 / bf16: Σ_i x[r, i]·w[o, i] (w converted to float), one float
// accumulator in index order (the compiler may fuse x·w + sum into an FMA).
// i8_row: quantizes x (dense_quantize_rows_i8) and
// calls dense_gemm_i8; callers that split the rows over threads should do that
// once and call dense_gemm_i8 themselves.
void dense_gemm(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                int64_t out_end, float* out);
// i8_row only: dot = Σ_i xq[r, i]·q[o, i] in int32 (exact), then
// out = row_scales[o]·(gammas[r]/127)·dot, evaluated in exactly that order in float,
// so every ISA's kernel returns the same bits.
void dense_gemm_i8(const DenseMatrixView& w, const int8_t* xq, const float* gammas, int64_t n_rows,
                   int64_t out_begin, int64_t out_end, float* out);

}  // namespace ref
}  // namespace bit_ttt
