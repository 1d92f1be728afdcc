// .bitt dtypes, sizes and checksums, shared by the reader and the writer.
#include "io/bitt_format.h"

#include <xxhash.h>

#include <limits>

#include "io/bitt.h"
#include "io/safetensors_format.h"

namespace bit_ttt {

std::string_view bitt_dtype_name(BittDType dtype) {
  switch (dtype) {
    case BittDType::f32:
      return "f32";
    case BittDType::f16:
      return "f16";
    case BittDType::bf16:
      return "bf16";
    case BittDType::i8:
      return "i8";
    case BittDType::ternary_i2:
      return "ternary_i2";
    case BittDType::ternary_tq1:
      return "ternary_tq1";
  }
  return "?";
}

std::optional<BittDType> bitt_dtype_from_name(std::string_view name) {
  for (const BittDType dtype : {BittDType::f32, BittDType::f16, BittDType::bf16, BittDType::i8,
                                BittDType::ternary_i2, BittDType::ternary_tq1}) {
    if (bitt_dtype_name(dtype) == name) return dtype;
  }
  return std::nullopt;
}

std::optional<TernaryFormat> bitt_ternary_format(BittDType dtype) {
  if (dtype == BittDType::ternary_i2) return TernaryFormat::i2;
  if (dtype == BittDType::ternary_tq1) return TernaryFormat::tq1;
  return std::nullopt;
}

std::optional<uint64_t> bitt_n_bytes(BittDType dtype, std::span<const int64_t> shape) {
  const std::optional<TernaryFormat> format = bitt_ternary_format(dtype);
  if (!format) {
    const size_t element_size = dtype == BittDType::f32 ? 4 : dtype == BittDType::i8 ? 1 : 2;
    return safetensors::checked_n_bytes(shape, element_size);
  }
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) return std::nullopt;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  // ternary_row_stride_bytes rounds n_in up to whole blocks; keep that in range.
  if (shape[1] > kMax - kI2BlockWeights) return std::nullopt;
  const auto n_out = static_cast<uint64_t>(shape[0]);
  const auto stride = static_cast<uint64_t>(ternary_row_stride_bytes(*format, shape[1]));
  // Kernels index packed rows with int64, so the total must fit there too.
  if (stride != 0 && n_out > static_cast<uint64_t>(kMax) / stride) return std::nullopt;
  return n_out * stride;
}

uint64_t bitt_checksum(std::span<const std::byte> bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

namespace bitt {

std::string checksum_hex(uint64_t checksum) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, checksum >>= 4)
    text[static_cast<size_t>(i)] = kDigits[checksum & 15];
  return text;
}

std::optional<uint64_t> parse_checksum_hex(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint64_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    value = value << 4 | digit;
  }
  return value;
}

}  // namespace bitt
}  // namespace bit_ttt
