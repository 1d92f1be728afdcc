#include "kernels/ref/ternary_packed_ref.h"

#include <algorithm>
#include <cstring>

#include "bit_ttt/error.h"
#include "core/check.h"

namespace bit_ttt {
namespace {

// Digits u = code + 1 of one whole block → its packed bytes.
void pack_block_i2(const uint8_t* digits, uint8_t* bytes) {
  for (int64_t j = 0; j < kI2BlockBytes; ++j) {
    uint8_t byte = 0;
    for (int k = 0; k < 4; ++k) byte |= static_cast<uint8_t>(digits[j + 64 * k] << (2 * k));
    bytes[j] = byte;
  }
}

void unpack_block_i2(const uint8_t* bytes, uint8_t* digits) {
  for (int64_t j = 0; j < kI2BlockBytes; ++j)
    for (int k = 0; k < 4; ++k) digits[j + 64 * k] = (bytes[j] >> (2 * k)) & 3;
}

void pack_block_tq1(const uint8_t* digits, uint8_t* bytes) {
  for (int64_t j = 0; j < kTq1BlockBytes; ++j) {
    int v = 0;  // u_0 is the most significant base-3 digit
    for (int k = 0; k < 5; ++k) v = v * 3 + digits[j + 32 * k];
    // ⌈v·256/243⌉ ≤ 255 for v ≤ 242: the scaling that makes ⌊3·(q·3^k mod 256)/256⌋ exact.
    bytes[j] = static_cast<uint8_t>((v * 256 + 242) / 243);
  }
}

void unpack_block_tq1(const uint8_t* bytes, uint8_t* digits) {
  for (int64_t j = 0; j < kTq1BlockBytes; ++j) {
    uint8_t m = bytes[j];
    for (int k = 0; k < 5; ++k) {
      digits[j + 32 * k] = static_cast<uint8_t>((m * 3) >> 8);
      m = static_cast<uint8_t>(m * 3);
    }
  }
}

// Digits of block `block` of `row` (padding weights decode to whatever was stored;
// pack_ternary stores u = 1, code 0).
void unpack_block(const TernaryMatrixView& w, int64_t row, int64_t block, uint8_t* digits) {
  const uint8_t* bytes = w.data + row * w.row_stride_bytes + block * ternary_block_bytes(w.format);
  if (w.format == TernaryFormat::i2)
    unpack_block_i2(bytes, digits);
  else
    unpack_block_tq1(bytes, digits);
}

void check_range(const TernaryMatrixView& w, int64_t n_rows, int64_t out_begin, int64_t out_end) {
  BT_CHECK(n_rows >= 0 && 0 <= out_begin && out_begin <= out_end && out_end <= w.n_out);
  BT_CHECK(w.row_stride_bytes == ternary_row_stride_bytes(w.format, w.n_in));
}

}  // namespace

std::string_view ternary_format_name(TernaryFormat format) {
  return format == TernaryFormat::i2 ? "i2" : "tq1";
}

TernaryFormat parse_ternary_format(std::string_view name) {
  if (name == "i2") return TernaryFormat::i2;
  if (name == "tq1") return TernaryFormat::tq1;
  fail("unknown ternary weight format '", name, "' (valid formats: i2, tq1)");
}

int64_t ternary_block_weights(TernaryFormat format) {
  return format == TernaryFormat::i2 ? kI2BlockWeights : kTq1BlockWeights;
}

int64_t ternary_block_bytes(TernaryFormat format) {
  return format == TernaryFormat::i2 ? kI2BlockBytes : kTq1BlockBytes;
}

int64_t ternary_row_stride_bytes(TernaryFormat format, int64_t n_in) {
  const int64_t block = ternary_block_weights(format);
  return (n_in + block - 1) / block * ternary_block_bytes(format);
}

PackedTernary pack_ternary(TernaryFormat format, const int8_t* codes, int64_t n_out, int64_t n_in,
                           float beta) {
  if (n_out < 0 || n_in < 0) fail("pack_ternary: bad shape [", n_out, ", ", n_in, "]");
  PackedTernary packed;
  packed.format = format;
  packed.n_out = n_out;
  packed.n_in = n_in;
  packed.row_stride_bytes = ternary_row_stride_bytes(format, n_in);
  packed.beta = beta;
  packed.data.assign(static_cast<size_t>(n_out * packed.row_stride_bytes), 0);
  const int64_t block_weights = ternary_block_weights(format);
  const int64_t block_bytes = ternary_block_bytes(format);
  const int64_t n_blocks = packed.row_stride_bytes / block_bytes;
  uint8_t digits[kI2BlockWeights];
  for (int64_t o = 0; o < n_out; ++o) {
    for (int64_t b = 0; b < n_blocks; ++b) {
      for (int64_t j = 0; j < block_weights; ++j) {
        const int64_t i = b * block_weights + j;
        const int code = i < n_in ? codes[o * n_in + i] : 0;
        if (code < -1 || code > 1)
          fail("pack_ternary: code ", code, " at [", o, ", ", i, "] is not in {-1, 0, 1}");
        digits[j] = static_cast<uint8_t>(code + 1);
      }
      uint8_t* bytes = packed.data.data() + o * packed.row_stride_bytes + b * block_bytes;
      if (format == TernaryFormat::i2)
        pack_block_i2(digits, bytes);
      else
        pack_block_tq1(digits, bytes);
    }
  }
  return packed;
}

void unpack_ternary_row(const TernaryMatrixView& w, int64_t row, int8_t* codes) {
  BT_CHECK(0 <= row && row < w.n_out);
  const int64_t block_weights = ternary_block_weights(w.format);
  uint8_t digits[kI2BlockWeights];
  for (int64_t b = 0; b * block_weights < w.n_in; ++b) {
    unpack_block(w, row, b, digits);
    const int64_t n = std::min(block_weights, w.n_in - b * block_weights);
    for (int64_t j = 0; j < n; ++j)
      codes[b * block_weights + j] = static_cast<int8_t>(digits[j] - 1);
  }
}

void unpack_ternary(const TernaryMatrixView& w, int8_t* codes) {
  for (int64_t o = 0; o < w.n_out; ++o) unpack_ternary_row(w, o, codes + o * w.n_in);
}

void validate_packed_ternary(const TernaryMatrixView& w, size_t n_bytes, std::string_view what) {
  if (w.n_out < 0 || w.n_in < 0) fail(what, ": bad shape [", w.n_out, ", ", w.n_in, "]");
  const int64_t stride = ternary_row_stride_bytes(w.format, w.n_in);
  if (w.row_stride_bytes != stride)
    fail(what, ": row stride ", w.row_stride_bytes, " bytes, expected ", stride, " for ",
         ternary_format_name(w.format), " rows of ", w.n_in, " weights");
  const size_t expected = static_cast<size_t>(w.n_out * stride);
  if (n_bytes != expected)
    fail(what, ": ", n_bytes, " bytes of packed ", ternary_format_name(w.format),
         " weights, expected ", expected, " for shape [", w.n_out, ", ", w.n_in, "]");
  if (w.format != TernaryFormat::i2) return;  // every tq1 byte decodes to digits 0..2
  for (size_t i = 0; i < n_bytes; ++i) {
    const uint8_t byte = w.data[i];
    // A pair equal to 3 has both bits set: (byte & (byte >> 1)) has bit 2k set.
    if ((byte & (byte >> 1) & 0x55) != 0)
      fail(what, ": byte ", i, " (0x", std::hex, int{byte}, std::dec,
           ") holds the unused i2 value 3");
  }
}

namespace ref {

// Each block is decoded once and applied to every row of x; out[r, o] is the
// running sum, so the order per output is the index order whatever n_rows is.
void ternary_gemm_i8(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                     int64_t out_begin, int64_t out_end, int32_t* out) {
  check_range(w, n_rows, out_begin, out_end);
  const int64_t block_weights = ternary_block_weights(w.format);
  uint8_t digits[kI2BlockWeights];
  for (int64_t o = out_begin; o < out_end; ++o) {
    for (int64_t r = 0; r < n_rows; ++r) out[r * w.n_out + o] = 0;
    for (int64_t b = 0; b * block_weights < w.n_in; ++b) {
      unpack_block(w, o, b, digits);
      const int64_t base = b * block_weights;
      const int64_t n = std::min(block_weights, w.n_in - base);
      for (int64_t r = 0; r < n_rows; ++r) {
        const int8_t* x = xq + r * w.n_in + base;
        int32_t sum = out[r * w.n_out + o];
        for (int64_t j = 0; j < n; ++j) sum += static_cast<int32_t>(x[j]) * (digits[j] - 1);
        out[r * w.n_out + o] = sum;
      }
    }
  }
}

void ternary_gemm_f32(const TernaryMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                      int64_t out_end, float* out) {
  check_range(w, n_rows, out_begin, out_end);
  const int64_t block_weights = ternary_block_weights(w.format);
  uint8_t digits[kI2BlockWeights];
  for (int64_t o = out_begin; o < out_end; ++o) {
    for (int64_t r = 0; r < n_rows; ++r) out[r * w.n_out + o] = 0.0f;
    for (int64_t b = 0; b * block_weights < w.n_in; ++b) {
      unpack_block(w, o, b, digits);
      const int64_t base = b * block_weights;
      const int64_t n = std::min(block_weights, w.n_in - base);
      for (int64_t r = 0; r < n_rows; ++r) {
        const float* x_row = x + r * w.n_in + base;
        float sum = out[r * w.n_out + o];  // one accumulator in index order
        for (int64_t j = 0; j < n; ++j) sum += x_row[j] * static_cast<float>(digits[j] - 1);
        out[r * w.n_out + o] = sum;
      }
    }
  }
}

}  // namespace ref
}  // namespace bit_ttt
