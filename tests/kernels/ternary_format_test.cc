// Packed ternary formats: exact round trips, the documented byte layouts, and
// rejection of bad input.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernel_test_inputs.h"
#include "kernels/ref/ternary_packed_ref.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::random_codes;

using testing::contains;
using testing::error_of;

constexpr TernaryFormat kFormats[] = {TernaryFormat::i2, TernaryFormat::tq1};

TEST(TernaryFormat, RoundTripIsExactForAwkwardShapes) {
  for (TernaryFormat format : kFormats)
    for (int64_t n_out : {1, 2, 7, 33})
      for (int64_t n_in : {0, 1, 5, 31, 159, 160, 161, 255, 256, 257, 319, 321, 1000}) {
        const auto codes = random_codes(n_out * n_in, 17 * n_out + n_in);
        const PackedTernary packed = pack_ternary(format, codes.data(), n_out, n_in, 0.25f);
        EXPECT_EQ(packed.row_stride_bytes, ternary_row_stride_bytes(format, n_in));
        EXPECT_EQ(packed.data.size(), static_cast<size_t>(n_out * packed.row_stride_bytes));
        EXPECT_EQ(reinterpret_cast<uintptr_t>(packed.data.data()) % 64, 0u);
        EXPECT_EQ(packed.beta, 0.25f);
        std::vector<int8_t> back(codes.size(), 9);
        unpack_ternary(packed, back.data());
        EXPECT_EQ(back, codes) << ternary_format_name(format) << " " << n_out << "x" << n_in;
      }
}

TEST(TernaryFormat, RowStridesAreWholeBlocks) {
  EXPECT_EQ(ternary_row_stride_bytes(TernaryFormat::i2, 4096), 1024);
  EXPECT_EQ(ternary_row_stride_bytes(TernaryFormat::i2, 768), 192);
  EXPECT_EQ(ternary_row_stride_bytes(TernaryFormat::i2, 257), 128);
  EXPECT_EQ(ternary_row_stride_bytes(TernaryFormat::tq1, 4096), 832);  // 26 blocks: 1.625 bits
  EXPECT_EQ(ternary_row_stride_bytes(TernaryFormat::tq1, 768), 160);   // 5 blocks: 1.67 bits
  EXPECT_EQ(ternary_row_stride_bytes(TernaryFormat::tq1, 160), 32);
  EXPECT_EQ(ternary_row_stride_bytes(TernaryFormat::tq1, 0), 0);
}

TEST(TernaryFormat, I2LayoutIsFourStridedRunsPerByte) {
  // Weight j + 64k of a block sits in bits [2k+1:2k] of byte j as code + 1.
  std::vector<int8_t> codes(256, 0);
  codes[5] = 1;    // byte 5, pair 0 → 2
  codes[69] = -1;  // byte 5, pair 1 → 0
  codes[197] = 1;  // byte 5, pair 3 → 2
  const PackedTernary packed = pack_ternary(TernaryFormat::i2, codes.data(), 1, 256, 1.0f);
  EXPECT_EQ(packed.data[5], 2 | (0 << 2) | (1 << 4) | (2 << 6));
  EXPECT_EQ(packed.data[6], 0x55);  // all zero codes: 1 in every pair
}

TEST(TernaryFormat, Tq1EncodesEveryFiveTritCombination) {
  // Eight blocks give 256 byte slots; slot s holds combination v = s mod 243.
  const int64_t n_in = 8 * kTq1BlockWeights;
  std::vector<int8_t> codes(n_in);
  for (int64_t slot = 0; slot < 256; ++slot) {
    const int64_t block = slot / 32, j = slot % 32;
    int v = static_cast<int>(slot % 243);
    for (int k = 4; k >= 0; --k, v /= 3)  // digit k = 0 is the most significant
      codes[block * kTq1BlockWeights + j + 32 * k] = static_cast<int8_t>(v % 3 - 1);
  }
  const PackedTernary packed = pack_ternary(TernaryFormat::tq1, codes.data(), 1, n_in, 1.0f);
  for (int64_t slot = 0; slot < 256; ++slot) {
    const int v = static_cast<int>(slot % 243);
    EXPECT_EQ(packed.data[slot], (v * 256 + 242) / 243) << slot;
  }
  std::vector<int8_t> back(n_in);
  unpack_ternary(packed, back.data());
  EXPECT_EQ(back, codes);
}

TEST(TernaryFormat, PackRejectsNonTernaryCodes) {
  std::vector<int8_t> codes = {0, 1, -1, 2};
  EXPECT_TRUE(contains(error_of([&] { pack_ternary(TernaryFormat::i2, codes.data(), 2, 2, 1); }),
                       "code 2 at [1, 1] is not in {-1, 0, 1}"));
  EXPECT_TRUE(contains(error_of([&] { pack_ternary(TernaryFormat::tq1, codes.data(), 1, -3, 1); }),
                       "bad shape"));
}

TEST(TernaryFormat, ValidateRejectsBadBuffers) {
  const auto codes = random_codes(3 * 300, 1);
  PackedTernary packed = pack_ternary(TernaryFormat::i2, codes.data(), 3, 300, 1.0f);
  EXPECT_EQ(error_of([&] { validate_packed_ternary(packed, packed.data.size(), "w"); }), "");
  EXPECT_TRUE(contains(error_of([&] { validate_packed_ternary(packed, 10, "layers.0.w"); }),
                       "layers.0.w: 10 bytes of packed i2 weights, expected 384"));
  packed.data[70] = 0x0c;  // pair 1 = 3
  EXPECT_TRUE(contains(error_of([&] { validate_packed_ternary(packed, packed.data.size(), "w"); }),
                       "byte 70 (0xc) holds the unused i2 value 3"));
  TernaryMatrixView view = packed.view();
  view.row_stride_bytes = 96;
  EXPECT_TRUE(contains(error_of([&] { validate_packed_ternary(view, 288, "w"); }),
                       "row stride 96 bytes, expected 128"));
  EXPECT_TRUE(contains(error_of([] { parse_ternary_format("q4"); }), "valid formats: i2, tq1"));
  EXPECT_EQ(parse_ternary_format("tq1"), TernaryFormat::tq1);
}

}  // namespace
}  // namespace bit_ttt
