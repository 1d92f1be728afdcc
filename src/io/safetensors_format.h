// Pieces of the safetensors format shared by the reader and the writer (internal).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bit_ttt::safetensors {

// The format is little-endian and we read it in place.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes little-endian");

inline constexpr size_t kLengthPrefixBytes = 8;
// A real header is a few MB at most (one short JSON entry per tensor); the cap
// stops a corrupt length from making us parse or allocate gigabytes.
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// The writer pads the header so the data section starts at this alignment.
inline constexpr size_t kDataAlignment = 8;
inline constexpr std::string_view kMetadataKey = "__metadata__";

// Offset of the first byte that is not part of well-formed UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF count as malformed).
std::optional<size_t> find_invalid_utf8(std::string_view text);

// product(shape), or nullopt when a dimension is negative or the product
// (times element_size) does not fit in 64 bits.
std::optional<uint64_t> checked_n_bytes(std::span<const int64_t> shape, size_t element_size);

// "[2, 3]", the way our error messages print shapes.
std::string shape_string(std::span<const int64_t> shape);

}  // namespace bit_ttt::safetensors
