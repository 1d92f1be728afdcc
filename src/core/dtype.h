// Element types of tensors and files, and the scalar conversions between them.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace bit_ttt {

// The first seven are what the engine computes with; the rest exist so that a
// safetensors file holding them can still be opened, listed and partly loaded.
// New enumerators go at the end: code may persist or compare the numeric value.
enum class DType {
  f32,
  f16,
  bf16,
  i8,
  u8,
  i32,
  i64,
  boolean,  // one byte, 0 or 1 ("BOOL")
  i16,
  u16,
  u32,
  u64,
  f64,
  f8_e4m3,  // OCP FP8 E4M3FN ("F8_E4M3")
  f8_e5m2,  // OCP FP8 E5M2 ("F8_E5M2")
  f8_e8m0,  // OCP MX scale, exponent only ("F8_E8M0")
};

size_t dtype_size(DType type);
std::string_view dtype_name(DType type);  // safetensors spelling: "F32", "BF16", ...
// Inverse of dtype_name; nullopt for a name that is not one of ours.
std::optional<DType> dtype_from_name(std::string_view name);

inline float bf16_to_f32(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

// Round to nearest even, NaN stays NaN.
inline uint16_t f32_to_bf16(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);

}  // namespace bit_ttt
