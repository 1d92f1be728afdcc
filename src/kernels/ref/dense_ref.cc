#include "kernels/ref/dense_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bit_ttt/error.h"
#include "core/check.h"
#include "core/dtype.h"
#include "kernels/ref/ref_kernels.h"

namespace bit_ttt {
namespace {

constexpr DenseDType kAllDenseDTypes[] = {DenseDType::f32, DenseDType::f16, DenseDType::bf16,
                                          DenseDType::i8_row};

// Element i of row o as float (the scalar definition of every format). memcpy:
// a view need not be aligned (a mapped file).
float element(const DenseMatrixView& w, int64_t o, int64_t i) {
  const int64_t index = o * w.n_in + i;
  const uint8_t* bytes = static_cast<const uint8_t*>(w.data);
  switch (w.dtype) {
    case DenseDType::f32: {
      float value;
      std::memcpy(&value, bytes + 4 * index, 4);
      return value;
    }
    case DenseDType::f16:
    case DenseDType::bf16: {
      uint16_t half;
      std::memcpy(&half, bytes + 2 * index, 2);
      return w.dtype == DenseDType::f16 ? f16_to_f32(half) : bf16_to_f32(half);
    }
    case DenseDType::i8_row:
      return static_cast<float>(static_cast<const int8_t*>(w.data)[index]) * w.row_scales[o];
  }
  return 0.0f;
}

void check_call(const DenseMatrixView& w, int64_t n_rows, int64_t out_begin, int64_t out_end) {
  BT_CHECK(n_rows >= 0 && 0 <= out_begin && out_begin <= out_end && out_end <= w.n_out);
  BT_CHECK(w.dtype != DenseDType::i8_row || w.row_scales != nullptr || w.n_out == 0);
}

}  // namespace

std::string_view dense_dtype_name(DenseDType dtype) {
  switch (dtype) {
    case DenseDType::f32:
      return "f32";
    case DenseDType::f16:
      return "f16";
    case DenseDType::bf16:
      return "bf16";
    case DenseDType::i8_row:
      return "int8";
  }
  return "?";
}

DenseDType parse_dense_dtype(std::string_view name) {
  for (DenseDType dtype : kAllDenseDTypes)
    if (name == dense_dtype_name(dtype)) return dtype;
  fail("unknown dense weight type '", name, "' (valid: f32, f16, bf16, int8)");
}

size_t dense_element_bytes(DenseDType dtype) {
  switch (dtype) {
    case DenseDType::f32:
      return 4;
    case DenseDType::f16:
    case DenseDType::bf16:
      return 2;
    case DenseDType::i8_row:
      return 1;
  }
  return 0;
}

float dense_quantize_row_i8(const float* w, int64_t n, int8_t* q) {
  float max_abs = 0.0f;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::fabs(w[i]));
  const float scale = max_abs / 127.0f;
  for (int64_t i = 0; i < n; ++i) {
    // round() is half away from zero whatever the FP rounding mode.
    const float code = scale > 0.0f ? std::round(w[i] / scale) : 0.0f;
    q[i] = static_cast<int8_t>(std::clamp(code, -127.0f, 127.0f));
  }
  return scale;
}

DenseMatrix convert_dense(DenseDType dtype, const float* w, int64_t n_out, int64_t n_in) {
  BT_CHECK(n_out >= 0 && n_in >= 0);
  DenseMatrix m;
  m.dtype = dtype;
  m.n_out = n_out;
  m.n_in = n_in;
  const int64_t n = n_out * n_in;
  m.data.resize(static_cast<size_t>(n) * dense_element_bytes(dtype));
  switch (dtype) {
    case DenseDType::f32:
      if (n > 0) std::memcpy(m.data.data(), w, static_cast<size_t>(n) * sizeof(float));
      break;
    case DenseDType::f16:
    case DenseDType::bf16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t bits = dtype == DenseDType::f16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
        std::memcpy(m.data.data() + 2 * i, &bits, 2);
      }
      break;
    case DenseDType::i8_row:
      m.row_scales.resize(static_cast<size_t>(n_out));
      for (int64_t o = 0; o < n_out; ++o) {
        const float* row = w + o * n_in;
        for (int64_t i = 0; i < n_in; ++i)
          if (!std::isfinite(row[i]))
            fail("convert_dense: weight [", o, ", ", i, "] is ", row[i],
                 "; int8 rows need finite weights");
        m.row_scales[o] =
            dense_quantize_row_i8(row, n_in, reinterpret_cast<int8_t*>(m.data.data()) + o * n_in);
      }
      break;
  }
  return m;
}

void validate_dense_matrix(const DenseMatrixView& w, size_t n_bytes, std::string_view what) {
  if (w.n_out < 0 || w.n_in < 0) fail(what, ": negative shape [", w.n_out, ", ", w.n_in, "]");
  const size_t expected = static_cast<size_t>(w.n_out * w.n_in) * dense_element_bytes(w.dtype);
  if (n_bytes != expected)
    fail(what, ": ", n_bytes, " bytes for a ", dense_dtype_name(w.dtype), " [", w.n_out, ", ",
         w.n_in, "] matrix (expected ", expected, ")");
  if (w.dtype != DenseDType::i8_row) return;
  if (w.row_scales == nullptr && w.n_out > 0) fail(what, ": int8 rows without row scales");
  const int8_t* q = static_cast<const int8_t*>(w.data);
  for (int64_t i = 0; i < w.n_out * w.n_in; ++i)
    if (q[i] == -128)
      fail(what, ": code -128 at row ", i / w.n_in, " (int8 rows hold codes in [-127, 127])");
  for (int64_t o = 0; o < w.n_out; ++o)
    if (!std::isfinite(w.row_scales[o])) fail(what, ": row ", o, " has scale ", w.row_scales[o]);
}

namespace ref {

void dense_row_to_f32(const DenseMatrixView& w, int64_t row, float* out) {
  BT_CHECK(0 <= row && row < w.n_out);
  for (int64_t i = 0; i < w.n_in; ++i) out[i] = element(w, row, i);
}

void dense_quantize_rows_i8(const float* x, int64_t n_rows, int64_t n_in, int8_t* xq,
                            float* gammas) {
  for (int64_t r = 0; r < n_rows; ++r)
    gammas[r] = int8_quantize_row(x + r * n_in, n_in, xq + r * n_in);
}

void dense_gemm(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                int64_t out_end, float* out) {
  check_call(w, n_rows, out_begin, out_end);
  if (w.dtype == DenseDType::i8_row) {
    std::vector<int8_t> xq(static_cast<size_t>(n_rows * w.n_in));
    std::vector<float> gammas(static_cast<size_t>(n_rows));
    dense_quantize_rows_i8(x, n_rows, w.n_in, xq.data(), gammas.data());
    dense_gemm_i8(w, xq.data(), gammas.data(), n_rows, out_begin, out_end, out);
    return;
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * w.n_in;
    for (int64_t o = out_begin; o < out_end; ++o) {
      float sum = 0.0f;
      for (int64_t i = 0; i < w.n_in; ++i) sum += xr[i] * element(w, o, i);
      out[r * w.n_out + o] = sum;
    }
  }
}

void dense_gemm_i8(const DenseMatrixView& w, const int8_t* xq, const float* gammas, int64_t n_rows,
                   int64_t out_begin, int64_t out_end, float* out) {
  check_call(w, n_rows, out_begin, out_end);
  BT_CHECK(w.dtype == DenseDType::i8_row);
  const int8_t* q = static_cast<const int8_t*>(w.data);
  for (int64_t r = 0; r < n_rows; ++r) {
    const int8_t* xr = xq + r * w.n_in;
    for (int64_t o = out_begin; o < out_end; ++o) {
      int32_t dot = 0;
      for (int64_t i = 0; i < w.n_in; ++i)
        dot += static_cast<int32_t>(xr[i]) * static_cast<int32_t>(q[o * w.n_in + i]);
      out[r * w.n_out + o] = w.row_scales[o] * (gammas[r] / 127.0f) * static_cast<float>(dot);
    }
  }
}

}  // namespace ref
}  // namespace bit_ttt
