#include "core/dtype.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace bit_ttt {
namespace {

constexpr DType kAllDTypes[] = {DType::f32, DType::f16,     DType::bf16,    DType::i8,
                                DType::u8,  DType::i32,     DType::i64,     DType::boolean,
                                DType::i16, DType::u16,     DType::u32,     DType::u64,
                                DType::f64, DType::f8_e4m3, DType::f8_e5m2, DType::f8_e8m0};

TEST(DType, NamesAndSizesRoundTrip) {
  for (const DType type : kAllDTypes) {
    const std::optional<DType> parsed = dtype_from_name(dtype_name(type));
    ASSERT_TRUE(parsed.has_value()) << dtype_name(type);
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_EQ(dtype_name(DType::bf16), "BF16");
  EXPECT_EQ(dtype_name(DType::boolean), "BOOL");
  EXPECT_EQ(dtype_name(DType::f8_e4m3), "F8_E4M3");
  EXPECT_EQ(dtype_size(DType::f32), 4u);
  EXPECT_EQ(dtype_size(DType::f16), 2u);
  EXPECT_EQ(dtype_size(DType::i64), 8u);
  EXPECT_EQ(dtype_size(DType::f64), 8u);
  EXPECT_EQ(dtype_size(DType::u16), 2u);
  EXPECT_EQ(dtype_size(DType::f8_e5m2), 1u);
  EXPECT_FALSE(dtype_from_name("f32").has_value());  // case matters, as in safetensors
  EXPECT_FALSE(dtype_from_name("").has_value());
  EXPECT_FALSE(dtype_from_name("F4").has_value());
}

// Independent of the implementation: the value from the IEEE binary16 definition.
double f16_reference_value(uint16_t bits) {
  const int sign = bits >> 15;
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  double magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
  } else {
    magnitude = std::ldexp(1024 + mantissa, exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

TEST(DType, F16ToF32ExactForAllBitPatterns) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const float value = f16_to_f32(static_cast<uint16_t>(bits));
    const double expected = f16_reference_value(static_cast<uint16_t>(bits));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(value)) << bits;
      EXPECT_EQ(std::signbit(value), (bits & 0x8000) != 0) << bits;
    } else {
      EXPECT_EQ(static_cast<double>(value), expected) << bits;
      EXPECT_EQ(std::signbit(value), (bits & 0x8000) != 0) << bits;  // -0 stays -0
    }
  }
}

TEST(DType, F32ToF16InvertsF16ToF32) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto half = static_cast<uint16_t>(bits);
    const uint16_t back = f32_to_f16(f16_to_f32(half));
    if ((half & 0x7fff) > 0x7c00) {
      EXPECT_GT(back & 0x7fff, 0x7c00) << bits;  // NaN stays NaN
      EXPECT_EQ(back & 0x8000, half & 0x8000) << bits;
    } else {
      EXPECT_EQ(back, half) << bits;  // subnormals, infinities, signed zeros
    }
  }
}

TEST(DType, F16SpecialValues) {
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));     // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));     // smallest normal
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7c01)));  // signalling NaN pattern stays NaN
}

TEST(DType, F32ToF16RoundsToNearestEven) {
  const float ulp_at_one = std::ldexp(1.0f, -10);
  // Ties go to the even mantissa.
  EXPECT_EQ(f32_to_f16(1.0f + ulp_at_one / 2), 0x3c00);      // 1.0 is even
  EXPECT_EQ(f32_to_f16(1.0f + 3 * ulp_at_one / 2), 0x3c02);  // 1+2ulp is even
  EXPECT_EQ(f32_to_f16(-(1.0f + ulp_at_one / 2)), 0xbc00);
  // Just off a tie goes to the nearer side.
  EXPECT_EQ(f32_to_f16(std::nextafter(1.0f + ulp_at_one / 2, 2.0f)), 0x3c01);
  EXPECT_EQ(f32_to_f16(std::nextafter(1.0f + 3 * ulp_at_one / 2, 0.0f)), 0x3c01);
  // Rounding carries into the exponent.
  EXPECT_EQ(f32_to_f16(std::nextafter(2.0f, 0.0f)), 0x4000);
  // Overflow: 65504 is the largest half; 65520 is the tie with 65536 and goes to inf.
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(std::nextafter(65520.0f, 0.0f)), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);
  EXPECT_EQ(f32_to_f16(-65520.0f), 0xfc00);
  EXPECT_EQ(f32_to_f16(1e10f), 0x7c00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::max()), 0x7c00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::infinity()), 0xfc00);
  // NaN stays NaN and keeps its sign.
  const uint16_t nan = f32_to_f16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_GT(nan & 0x7fff, 0x7c00);
  EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::quiet_NaN()) & 0x8000, 0x8000);
  // Subnormal range: ties to even, and the boundaries with zero and normals.
  const float tiny = std::ldexp(1.0f, -24);  // smallest half subnormal
  EXPECT_EQ(f32_to_f16(tiny / 2), 0x0000);   // tie with 0 -> 0 (even)
  EXPECT_EQ(f32_to_f16(std::nextafter(tiny / 2, 1.0f)), 0x0001);
  EXPECT_EQ(f32_to_f16(std::nextafter(tiny / 2, 0.0f)), 0x0000);
  EXPECT_EQ(f32_to_f16(3 * tiny / 2), 0x0002);    // tie between 1 and 2 -> 2
  EXPECT_EQ(f32_to_f16(5 * tiny / 2), 0x0002);    // tie between 2 and 3 -> 2
  EXPECT_EQ(f32_to_f16(1023.5f * tiny), 0x0400);  // tie 0x3ff/0x400 -> 0x400 (normal)
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::denorm_min()), 0x8000);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
}

// Reference rounding: nearest of all finite halves by value, ties to the even
// bit pattern, |x| >= 65520 to infinity. Shares nothing with f32_to_f16.
class F16Reference {
 public:
  F16Reference() {
    for (uint16_t bits = 0; bits <= 0x7bff; ++bits) values_.push_back(f16_reference_value(bits));
  }
  uint16_t round(float value) const {
    if (std::isnan(value)) return 0x7e00;
    const uint16_t sign = std::signbit(value) ? 0x8000 : 0;
    const double magnitude = std::fabs(static_cast<double>(value));
    if (magnitude >= 65520.0) return sign | 0x7c00;
    const auto above = std::lower_bound(values_.begin(), values_.end(), magnitude);
    if (above == values_.end()) return sign | 0x7bff;  // (65504, 65520): nearer to 65504
    auto index = static_cast<uint16_t>(above - values_.begin());
    if (index > 0 && values_[index] != magnitude) {
      const double below_distance = magnitude - values_[index - 1];
      const double above_distance = values_[index] - magnitude;
      if (below_distance < above_distance || (below_distance == above_distance && (index & 1))) {
        --index;
      }
    }
    return sign | index;
  }

 private:
  std::vector<double> values_;  // index == bit pattern, increasing
};

void check_f32_to_f16_against_reference(uint64_t seed) {
  const F16Reference reference;
  std::mt19937 random(static_cast<uint32_t>(seed));
  // Half the samples in and near the half range, where all the rounding happens.
  std::uniform_int_distribution<uint32_t> near_range(0x33000000u, 0x47800000u);
  for (int i = 0; i < 400000; ++i) {
    uint32_t bits = (i % 2) ? random() : near_range(random) | (random() & 0x80000000u);
    const float value = std::bit_cast<float>(bits);
    const uint16_t expected = reference.round(value);
    const uint16_t actual = f32_to_f16(value);
    if (std::isnan(value)) {
      ASSERT_GT(actual & 0x7fff, 0x7c00) << std::hex << bits;
    } else {
      ASSERT_EQ(actual, expected) << std::hex << "f32 bits 0x" << bits;
    }
  }
}

TEST(DType, F32ToF16MatchesReferenceOnRandomValues) {
  check_f32_to_f16_against_reference(1);
}

// The conversion must not depend on the caller's FP rounding mode (it used
// std::nearbyint for subnormals, which does).
TEST(DType, F32ToF16IgnoresFloatingPointRoundingMode) {
  const int saved = std::fegetround();
  ASSERT_EQ(std::fesetround(FE_UPWARD), 0);
  const uint16_t tie_to_zero = f32_to_f16(std::ldexp(1.0f, -25));
  const uint16_t tie_to_two = f32_to_f16(3 * std::ldexp(1.0f, -25));
  std::fesetround(saved);
  EXPECT_EQ(tie_to_zero, 0x0000);
  EXPECT_EQ(tie_to_two, 0x0002);
  std::fesetround(FE_TOWARDZERO);
  check_f32_to_f16_against_reference(2);
  std::fesetround(saved);
}

TEST(DType, Bf16ToF32IsExact) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const float value = bf16_to_f32(static_cast<uint16_t>(bits));
    EXPECT_EQ(std::bit_cast<uint32_t>(value), bits << 16);
    if (!std::isnan(value)) {
      EXPECT_EQ(f32_to_bf16(value), bits);
    }
  }
}

// Reference: the two bf16 neighbours of x by truncation, compared in double.
uint16_t bf16_reference(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const auto below = static_cast<uint16_t>(bits >> 16);  // toward zero
  if ((bits & 0xffff) == 0) return below;
  const auto above = static_cast<uint16_t>(below + 1);  // away from zero (may be inf)
  const double magnitude = std::fabs(static_cast<double>(value));
  const double below_distance = magnitude - std::fabs(static_cast<double>(bf16_to_f32(below)));
  // Above the largest finite bf16 the next pattern is inf; compare with 2^128 then.
  const double above_value = (above & 0x7fff) == 0x7f80
                                 ? std::ldexp(1.0, 128)
                                 : std::fabs(static_cast<double>(bf16_to_f32(above)));
  const double above_distance = above_value - magnitude;
  if (below_distance < above_distance) return below;
  if (above_distance < below_distance) return above;
  return (below & 1) ? above : below;
}

TEST(DType, F32ToBf16RoundsToNearestEven) {
  const float ulp_at_one = std::ldexp(1.0f, -7);
  EXPECT_EQ(f32_to_bf16(1.0f + ulp_at_one / 2), 0x3f80);      // tie -> even (1.0)
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * ulp_at_one / 2), 0x3f82);  // tie -> even
  EXPECT_EQ(f32_to_bf16(std::nextafter(1.0f + ulp_at_one / 2, 2.0f)), 0x3f81);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds to inf
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7f7f7fffu)), 0x7f7f);  // largest finite
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x00008000u)), 0x0000);  // subnormal tie -> even
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x00018000u)), 0x0002);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  // A NaN whose payload lives only in the low 16 bits must not become inf.
  const uint16_t nan = f32_to_bf16(std::bit_cast<float>(0x7f800001u));
  EXPECT_GT(nan & 0x7fff, 0x7f80);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0xff800001u)) & 0x8000, 0x8000);

  std::mt19937 random(3);
  for (int i = 0; i < 400000; ++i) {
    const float value = std::bit_cast<float>(static_cast<uint32_t>(random()));
    if (std::isnan(value)) continue;
    ASSERT_EQ(f32_to_bf16(value), bf16_reference(value))
        << std::hex << std::bit_cast<uint32_t>(value);
  }
}

}  // namespace
}  // namespace bit_ttt
