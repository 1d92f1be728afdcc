// Pieces of the .bitt format shared by the reader and the writer (internal).
// Layout (docs/bitt-format.md):
//   [0, 4)    magic "BITT"
//   [4, 8)    u32 version (1)
//   [8, 16)   u64 header length H
//   [16, 24)  u64 XXH3-64 of the H header bytes
//   [24, 24 + H)  UTF-8 JSON header, space-padded so 24 + H is a multiple of 64
//   [24 + H, 24 + H + data_bytes)  data section; tensors at 64-byte aligned offsets
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bit_ttt::bitt {

static_assert(std::endian::native == std::endian::little, ".bitt I/O assumes little-endian");

inline constexpr std::string_view kMagic = "BITT";
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kPrefixBytes = 24;
// Data section start and every tensor offset: a cache line, the widest SIMD load.
inline constexpr uint64_t kAlignment = 64;
// A header is the tensor table plus config and tokenizer.json (a few MB for a
// 128k vocabulary); the cap stops a corrupt length from costing gigabytes.
inline constexpr uint64_t kMaxHeaderBytes = 256ull << 20;
// Deep enough for any model config; stops [[[[... from costing a node per byte.
inline constexpr int kMaxJsonDepth = 64;

inline uint64_t round_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// 16 lowercase hex digits.
std::string checksum_hex(uint64_t checksum);
// Inverse of checksum_hex (either case); nullopt unless exactly 16 hex digits.
std::optional<uint64_t> parse_checksum_hex(std::string_view text);

}  // namespace bit_ttt::bitt
