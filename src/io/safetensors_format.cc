#include "io/safetensors_format.h"

#include <limits>

namespace bit_ttt::safetensors {

std::optional<size_t> find_invalid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t n_continuation;
    // Bounds of the first continuation byte exclude overlongs and surrogates.
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      n_continuation = 1;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      n_continuation = 2;
      if (lead == 0xe0) low = 0xa0;
      if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      n_continuation = 3;
      if (lead == 0xf0) low = 0x90;
      if (lead == 0xf4) high = 0x8f;
    } else {
      return i;
    }
    if (size - i <= n_continuation) return i;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (size_t k = 2; k <= n_continuation; ++k) {
      if ((bytes[i + k] & 0xc0) != 0x80) return i;
    }
    i += n_continuation + 1;
  }
  return std::nullopt;
}

std::optional<uint64_t> checked_n_bytes(std::span<const int64_t> shape, size_t element_size) {
  uint64_t product = element_size;
  bool zero = element_size == 0;
  for (const int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim == 0) zero = true;
    // Overflow is judged on the dims alone, so [0, 2^62, 2^62] is rejected too:
    // no real tensor has such a shape and accepting it would only hide a bug.
    if (dim != 0 && product > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(dim)) {
      return std::nullopt;
    }
    if (dim != 0) product *= static_cast<uint64_t>(dim);
  }
  return zero ? 0 : product;
}

std::string shape_string(std::span<const int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

}  // namespace bit_ttt::safetensors
