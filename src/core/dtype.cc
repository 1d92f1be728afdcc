#include "core/dtype.h"

#include <array>
#include <cmath>
#include <utility>

#include "core/check.h"

namespace bit_ttt {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};

// One table so that name, size and the parser cannot drift apart.
constexpr std::array<DTypeInfo, 16> kDTypes = {{
    {DType::f32, "F32", 4},
    {DType::f16, "F16", 2},
    {DType::bf16, "BF16", 2},
    {DType::i8, "I8", 1},
    {DType::u8, "U8", 1},
    {DType::i32, "I32", 4},
    {DType::i64, "I64", 8},
    {DType::boolean, "BOOL", 1},
    {DType::i16, "I16", 2},
    {DType::u16, "U16", 2},
    {DType::u32, "U32", 4},
    {DType::u64, "U64", 8},
    {DType::f64, "F64", 8},
    {DType::f8_e4m3, "F8_E4M3", 1},
    {DType::f8_e5m2, "F8_E5M2", 1},
    {DType::f8_e8m0, "F8_E8M0", 1},
}};

const DTypeInfo& info(DType type) {
  const auto index = static_cast<size_t>(type);
  BT_CHECK(index < kDTypes.size() && kDTypes[index].type == type);
  return kDTypes[index];
}

}  // namespace

size_t dtype_size(DType type) {
  return info(type).size;
}

std::string_view dtype_name(DType type) {
  return info(type).name;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const DTypeInfo& entry : kDTypes) {
    if (entry.name == name) return entry.type;
  }
  return std::nullopt;
}

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: value = mantissa * 2^-24.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t f32_to_f16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs_bits = bits & 0x7fffffffu;
  if (abs_bits > 0x7f800000u) return sign | 0x7e00u;   // NaN
  if (abs_bits >= 0x477ff000u) return sign | 0x7c00u;  // overflow (rounds to inf) or inf
  if (abs_bits < 0x38800000u) {
    // Subnormal half (or zero): round-to-nearest-even of value * 2^24, in integers
    // because std::nearbyint would follow whatever FP rounding mode the caller set.
    const uint32_t exponent = abs_bits >> 23;
    if (exponent < 102) return sign;  // below 2^-25: rounds to zero (2^-25 itself ties to 0)
    const uint32_t mantissa = (abs_bits & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // 14..24: value * 2^24 == mantissa >> shift
    uint32_t half = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half & 1u))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  // Normal: rebias exponent, round mantissa 23 -> 10 bits to nearest even.
  uint32_t half = ((abs_bits >> 13) - (112u << 10));
  const uint32_t remainder = abs_bits & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u))) ++half;
  return sign | static_cast<uint16_t>(half);
}

}  // namespace bit_ttt
