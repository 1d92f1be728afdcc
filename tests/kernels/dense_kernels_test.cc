// Dense (f32 / f16 / bf16 / int8-row) storage and kernels: exact conversions,
// and every kernel table this machine runs (scalar, avx2, avx512, avx512vnni)
// against the scalar reference — bit-exact for int8 rows and the embedding lookup,
// a tolerance for float GEMMs plus bit-exact determinism (GEMM row == GEMV, row
// ranges, AVX2 == AVX-512) — on awkward shapes.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "core/dtype.h"
#include "kernel_test_inputs.h"
#include "kernels/cpu/dense_kernels.h"
#include "kernels/cpu/isa.h"
#include "kernels/ref/dense_ref.h"
#include "kernels/ref/ref_kernels.h"

namespace bit_ttt {
namespace {

using testing::random_floats;
using testing::random_xq;

using cpu::DenseKernelTable;
using cpu::Isa;

constexpr DenseDType kFloatDTypes[] = {DenseDType::f32, DenseDType::f16, DenseDType::bf16};
constexpr DenseDType kAllDTypes[] = {DenseDType::f32, DenseDType::f16, DenseDType::bf16,
                                     DenseDType::i8_row};
struct Shape {
  int64_t n_out, n_in;
};
// n_in around the block sizes (16, 32, 64) and the LM head's widths; n_out not a
// multiple of 4 (the weight-row blocks leave 1..3 rows over).
constexpr Shape kShapes[] = {{1, 1},   {3, 7},    {5, 15},   {4, 16},  {6, 17},   {9, 31},
                             {7, 33},  {2, 63},   {8, 64},   {10, 65}, {13, 100}, {11, 256},
                             {5, 257}, {14, 768}, {3, 1000}, {3, 0}};
constexpr int64_t kMaxRows = 9;

// Weights with rows of different magnitudes; one all-zero row for int8.
std::vector<float> random_weights(Shape shape, uint64_t seed) {
  auto w = random_floats(shape.n_out * shape.n_in, seed);
  for (int64_t o = 0; o < shape.n_out; ++o)
    for (int64_t i = 0; i < shape.n_in; ++i) {
      float& v = w[o * shape.n_in + i];
      v *= static_cast<float>(1 + o % 3) * 0.05f;
      if (o % 5 == 3) v = 0.0f;
    }
  return w;
}

// An int8 matrix with codes at ±127 in whole rows as well as random ones.
DenseMatrix random_i8_matrix(Shape shape, uint64_t seed) {
  auto w = random_weights(shape, seed);
  for (int64_t o = 0; o < shape.n_out; ++o)
    for (int64_t i = 0; i < shape.n_in; ++i) {
      if (o % 7 == 6) w[o * shape.n_in + i] = -1.0f;
      if (o % 7 == 5) w[o * shape.n_in + i] = (i % 2 ? 2.0f : -2.0f);
    }
  return convert_dense(DenseDType::i8_row, w.data(), shape.n_out, shape.n_in);
}

std::string label(const DenseKernelTable& table, DenseDType dtype, Shape shape, int64_t n_rows) {
  return std::string(table.name) + " " + std::string(dense_dtype_name(dtype)) + " " +
         std::to_string(shape.n_out) + "x" + std::to_string(shape.n_in) +
         " R=" + std::to_string(n_rows);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

uint16_t f16_bits(float v) {
  return f32_to_f16(v);
}

// ---- formats and conversions --------------------------------------------------

TEST(DenseFormat, NamesRoundTrip) {
  for (DenseDType dtype : kAllDTypes) EXPECT_EQ(parse_dense_dtype(dense_dtype_name(dtype)), dtype);
  EXPECT_EQ(dense_dtype_name(DenseDType::i8_row), "int8");
  EXPECT_EQ(dense_element_bytes(DenseDType::f32), 4u);
  EXPECT_EQ(dense_element_bytes(DenseDType::bf16), 2u);
  EXPECT_EQ(dense_element_bytes(DenseDType::i8_row), 1u);
  EXPECT_THROW(parse_dense_dtype("i8"), Error);
  EXPECT_THROW(parse_dense_dtype("F16"), Error);
}

TEST(DenseFormat, F16ConversionIsRoundToNearestEven) {
  EXPECT_EQ(f16_bits(1.0f), 0x3c00);
  EXPECT_EQ(f16_bits(-2.0f), 0xc000);
  EXPECT_EQ(f16_bits(0.0f), 0x0000);
  EXPECT_EQ(f16_bits(-0.0f), 0x8000);
  EXPECT_EQ(f16_bits(65504.0f), 0x7bff);  // largest half
  EXPECT_EQ(f16_bits(65519.99f), 0x7bff);
  EXPECT_EQ(f16_bits(65520.0f), 0x7c00);  // the tie above the largest half rounds to inf
  EXPECT_EQ(f16_bits(-1e6f), 0xfc00);
  EXPECT_EQ(f16_bits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(f16_bits(-std::numeric_limits<float>::infinity()), 0xfc00);
  const uint16_t nan = f16_bits(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  // Ties: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 (even: 1);
  // 1 + 3·2^-11 halfway between 1 + 2^-10 and 1 + 2^-9 (even: the latter).
  EXPECT_EQ(f16_bits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(f16_bits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(f16_bits(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
  // Subnormals: 2^-24 is the smallest; 2^-25 ties to 0; 3·2^-25 ties to 2·2^-24.
  EXPECT_EQ(f16_bits(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(f16_bits(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(f16_bits(3 * std::ldexp(1.0f, -25)), 0x0002);
  EXPECT_EQ(f16_bits(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(f16_bits(-std::ldexp(1023.0f, -24)), 0x83ff);
  // Back to float: exact.
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_to_f32(0x83ff), -std::ldexp(1023.0f, -24));
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const float v = f16_to_f32(static_cast<uint16_t>(bits));
    if (!std::isnan(v)) {
      ASSERT_EQ(f32_to_f16(v), bits) << bits;
    }
  }
}

TEST(DenseFormat, Bf16ConversionIsRoundToNearestEven) {
  auto bits = [](uint32_t f) { return f32_to_bf16(std::bit_cast<float>(f)); };
  EXPECT_EQ(bits(0x3f800000), 0x3f80);    // 1
  EXPECT_EQ(bits(0x3f808000), 0x3f80);    // tie, even stays
  EXPECT_EQ(bits(0x3f818000), 0x3f82);    // tie, odd rounds up
  EXPECT_EQ(bits(0x3f808001), 0x3f81);    // above the tie
  EXPECT_EQ(bits(0x3f807fff), 0x3f80);    // below the tie
  EXPECT_EQ(bits(0x7f7fffff), 0x7f80);    // the largest float rounds to inf
  EXPECT_EQ(bits(0x7f800000), 0x7f80);    // inf
  EXPECT_EQ(bits(0xff800000), 0xff80);    // -inf
  EXPECT_EQ(bits(0x00000001), 0x0000);    // subnormal rounds to 0
  EXPECT_EQ(bits(0x00018000), 0x0002);    // subnormal tie, odd rounds up
  const uint16_t nan = bits(0x7f800001);  // a NaN whose payload is only in the low bits
  EXPECT_EQ(nan & 0x7f80, 0x7f80);
  EXPECT_NE(nan & 0x007f, 0);
  EXPECT_EQ(bf16_to_f32(0x3f82), std::bit_cast<float>(0x3f820000u));
}

TEST(DenseFormat, ConvertStoresTheScalarConversions) {
  const std::vector<float> w = {
      1.0f,    -0.0f, 65520.0f, std::numeric_limits<float>::quiet_NaN(), std::ldexp(1.0f, -24),
      3.14159f};
  const DenseMatrix f32 = convert_dense(DenseDType::f32, w.data(), 2, 3);
  const DenseMatrix f16 = convert_dense(DenseDType::f16, w.data(), 2, 3);
  const DenseMatrix bf16 = convert_dense(DenseDType::bf16, w.data(), 2, 3);
  ASSERT_EQ(f32.data.size(), 24u);
  ASSERT_EQ(f16.data.size(), 12u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f16.data.data()) % 64, 0u);
  EXPECT_EQ(std::memcmp(f32.data.data(), w.data(), 24), 0);
  for (size_t i = 0; i < w.size(); ++i) {
    uint16_t h = 0, b = 0;
    std::memcpy(&h, f16.data.data() + 2 * i, 2);
    std::memcpy(&b, bf16.data.data() + 2 * i, 2);
    EXPECT_EQ(h, f32_to_f16(w[i])) << i;
    EXPECT_EQ(b, f32_to_bf16(w[i])) << i;
  }
  EXPECT_TRUE(f16.row_scales.empty());
  EXPECT_EQ(f16.view().row_scales, nullptr);
}

TEST(DenseFormat, Int8RowsHaveAbsmaxScalesAndRoundHalfAway) {
  // Row 0: max 127 → scale 1, so codes are round-half-away(w) exactly.
  // Row 1: all zero → scale 0, codes 0. Row 2: max 0.254 → scale 0.002.
  const std::vector<float> w = {127.0f, 2.5f, -2.5f,  0.5f,    -0.5f,  1.49f, -127.0f, 126.5f,
                                0.0f,   0.0f, 0.0f,   0.0f,    0.0f,   0.0f,  0.0f,    0.0f,
                                0.254f, 0.0f, 0.001f, -0.254f, 0.003f, 0.1f,  -0.001f, 0.0f};
  const DenseMatrix m = convert_dense(DenseDType::i8_row, w.data(), 3, 8);
  ASSERT_EQ(m.row_scales.size(), 3u);
  EXPECT_EQ(m.row_scales[0], 1.0f);
  EXPECT_EQ(m.row_scales[1], 0.0f);
  EXPECT_EQ(m.row_scales[2], 0.254f / 127.0f);
  const int8_t* q = reinterpret_cast<const int8_t*>(m.data.data());
  const std::vector<int8_t> row0(q, q + 8), row1(q + 8, q + 16);
  EXPECT_EQ(row0, (std::vector<int8_t>{127, 3, -3, 1, -1, 1, -127, 127}));
  EXPECT_EQ(row1, std::vector<int8_t>(8, 0));
  EXPECT_EQ(q[16], 127);
  EXPECT_EQ(q[19], -127);
  EXPECT_EQ(q[18], static_cast<int8_t>(std::round(0.001f / (0.254f / 127.0f))));
  for (int i = 0; i < 24; ++i) EXPECT_NE(q[i], -128);
  // Non-finite weights cannot be scaled.
  const std::vector<float> bad = {1.0f, std::numeric_limits<float>::infinity()};
  EXPECT_THROW(convert_dense(DenseDType::i8_row, bad.data(), 1, 2), Error);
}

TEST(DenseFormat, ValidateRejectsBadStorage) {
  const auto w = random_weights({4, 10}, 1);
  const DenseMatrix m = convert_dense(DenseDType::i8_row, w.data(), 4, 10);
  validate_dense_matrix(m, m.data.size(), "head");
  EXPECT_THROW(validate_dense_matrix(m, m.data.size() - 1, "head"), Error);
  DenseMatrix broken = m;
  reinterpret_cast<int8_t*>(broken.data.data())[13] = -128;
  EXPECT_THROW(validate_dense_matrix(broken, broken.data.size(), "head"), Error);
  DenseMatrixView no_scales = m.view();
  no_scales.row_scales = nullptr;
  EXPECT_THROW(validate_dense_matrix(no_scales, m.data.size(), "head"), Error);
  const DenseMatrix f16 = convert_dense(DenseDType::f16, w.data(), 4, 10);
  validate_dense_matrix(f16, 80, "embed");
  EXPECT_THROW(validate_dense_matrix(f16, 40, "embed"), Error);
}

// ---- reference semantics ------------------------------------------------------

TEST(DenseReference, FloatGemmIsTheIndexOrderDot) {
  const Shape shape{7, 130};
  const auto w = random_weights(shape, 2);
  const auto x = random_floats(3 * shape.n_in, 3);
  for (DenseDType dtype : kFloatDTypes) {
    const DenseMatrix m = convert_dense(dtype, w.data(), shape.n_out, shape.n_in);
    std::vector<float> out(3 * shape.n_out);
    ref::dense_gemm(m, x.data(), 3, 0, shape.n_out, out.data());
    std::vector<float> row(shape.n_in);
    for (int64_t o = 0; o < shape.n_out; ++o) {
      ref::dense_row_to_f32(m, o, row.data());
      for (int64_t r = 0; r < 3; ++r) {
        // Not bit for bit: the compiler may contract either loop's x·w + sum to an FMA.
        double magnitude = 0;
        for (int64_t i = 0; i < shape.n_in; ++i)
          magnitude += std::fabs(double{x[r * shape.n_in + i]} * row[i]);
        EXPECT_NEAR(out[r * shape.n_out + o],
                    ref::dot_f32(x.data() + r * shape.n_in, row.data(), shape.n_in),
                    1e-6 * magnitude);
      }
    }
  }
}

TEST(DenseReference, Int8GemmScalesTheExactDot) {
  const Shape shape{6, 77};
  const DenseMatrix m = random_i8_matrix(shape, 4);
  const auto x = random_floats(2 * shape.n_in, 5);
  std::vector<int8_t> xq(x.size());
  std::vector<float> gammas(2);
  ref::dense_quantize_rows_i8(x.data(), 2, shape.n_in, xq.data(), gammas.data());
  for (int64_t r = 0; r < 2; ++r) {
    std::vector<int8_t> expected(shape.n_in);
    EXPECT_EQ(gammas[r],
              ref::int8_quantize_row(x.data() + r * shape.n_in, shape.n_in, expected.data()));
    EXPECT_EQ(std::vector<int8_t>(xq.begin() + r * shape.n_in, xq.begin() + (r + 1) * shape.n_in),
              expected);
  }
  std::vector<float> out(2 * shape.n_out), via_float(2 * shape.n_out);
  ref::dense_gemm_i8(m, xq.data(), gammas.data(), 2, 0, shape.n_out, out.data());
  ref::dense_gemm(m, x.data(), 2, 0, shape.n_out, via_float.data());
  EXPECT_TRUE(same_bits(out, via_float));
  const int8_t* q = reinterpret_cast<const int8_t*>(m.data.data());
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t o = 0; o < shape.n_out; ++o) {
      int64_t dot = 0;
      for (int64_t i = 0; i < shape.n_in; ++i)
        dot += int64_t{xq[r * shape.n_in + i]} * q[o * shape.n_in + i];
      EXPECT_EQ(out[r * shape.n_out + o],
                m.row_scales[o] * (gammas[r] / 127.0f) * static_cast<float>(dot));
      // And close to the float product with the dequantized weights.
      double exact = 0, magnitude = 0;
      for (int64_t i = 0; i < shape.n_in; ++i) {
        const double wi = double{m.row_scales[o]} * q[o * shape.n_in + i];
        exact += wi * x[r * shape.n_in + i];
        magnitude += std::fabs(wi * x[r * shape.n_in + i]);
      }
      EXPECT_NEAR(out[r * shape.n_out + o], exact, 0.02 * magnitude + 1e-6);
    }
}

// ---- every kernel table against the reference ---------------------------------

TEST(DenseKernels, TablesCoverEverySupportedIsa) {
  const auto tables = cpu::runnable_dense_kernel_tables();
  ASSERT_FALSE(tables.empty());
  EXPECT_STREQ(tables.front()->name, "scalar");
  EXPECT_EQ(tables.size() >= cpu::supported_isas().size(), true);
  std::string names;
  for (const auto* table : tables) names += std::string(" ") + table->name;
  std::printf("[ dense kernel tables:%s; cpu: %s ]\n", names.c_str(),
              cpu::cpu_features_string().c_str());
  if (cpu::isa_supported(Isa::avx512)) {
    EXPECT_STREQ(cpu::dense_kernels(Isa::avx512).name,
                 cpu::cpu_features().avx512vnni ? "avx512vnni" : "avx512");
  }
}

TEST(DenseKernels, FloatGemmMatchesReferenceAndEachRowIsItsGemv) {
  for (const DenseKernelTable* table : cpu::runnable_dense_kernel_tables())
    for (DenseDType dtype : kFloatDTypes)
      for (Shape shape : kShapes) {
        const auto w = random_weights(shape, shape.n_out * 1000 + shape.n_in);
        const DenseMatrix m = convert_dense(dtype, w.data(), shape.n_out, shape.n_in);
        const auto gemm = table->gemm[static_cast<int>(dtype)];
        const auto x = random_floats(kMaxRows * shape.n_in, shape.n_in + 17);
        // GEMVs of every row, the streaming result every batch must reproduce.
        std::vector<float> gemv(kMaxRows * shape.n_out);
        for (int64_t r = 0; r < kMaxRows; ++r)
          gemm(m, x.data() + r * shape.n_in, 1, 0, shape.n_out, gemv.data() + r * shape.n_out);
        for (int64_t n_rows = 1; n_rows <= kMaxRows; ++n_rows) {
          std::vector<float> expected(n_rows * shape.n_out), got(n_rows * shape.n_out, -7.0f);
          ref::dense_gemm(m, x.data(), n_rows, 0, shape.n_out, expected.data());
          gemm(m, x.data(), n_rows, 0, shape.n_out, got.data());
          std::vector<float> row(shape.n_in);
          for (int64_t o = 0; o < shape.n_out; ++o) {
            ref::dense_row_to_f32(m, o, row.data());
            for (int64_t r = 0; r < n_rows; ++r) {
              double magnitude = 0;
              for (int64_t i = 0; i < shape.n_in; ++i)
                magnitude += std::fabs(double{x[r * shape.n_in + i]} * row[i]);
              const float value = got[r * shape.n_out + o];
              ASSERT_NEAR(value, expected[r * shape.n_out + o], 1e-5 * magnitude + 1e-30)
                  << label(*table, dtype, shape, n_rows) << " row " << r << " out " << o;
              ASSERT_EQ(std::bit_cast<uint32_t>(value),
                        std::bit_cast<uint32_t>(gemv[r * shape.n_out + o]))
                  << label(*table, dtype, shape, n_rows) << " row " << r << " out " << o;
            }
          }
        }
      }
}

TEST(DenseKernels, ScalarFloatKernelIsTheReference) {
  const DenseKernelTable& scalar = cpu::dense_kernels(Isa::scalar);
  const Shape shape{10, 300};
  const auto w = random_weights(shape, 8);
  const auto x = random_floats(3 * shape.n_in, 9);
  for (DenseDType dtype : kFloatDTypes) {
    const DenseMatrix m = convert_dense(dtype, w.data(), shape.n_out, shape.n_in);
    std::vector<float> expected(3 * shape.n_out), got(3 * shape.n_out);
    ref::dense_gemm(m, x.data(), 3, 0, shape.n_out, expected.data());
    scalar.gemm[static_cast<int>(dtype)](m, x.data(), 3, 0, shape.n_out, got.data());
    EXPECT_TRUE(same_bits(got, expected));
  }
}

TEST(DenseKernels, Avx2AndAvx512FloatAreBitIdentical) {
  if (!cpu::isa_supported(Isa::avx512)) GTEST_SKIP() << "needs AVX-512";
  const auto tables = cpu::runnable_dense_kernel_tables();
  const DenseKernelTable& avx2 = cpu::dense_kernels(Isa::avx2);
  for (const DenseKernelTable* table : tables) {
    if (std::string(table->name).rfind("avx512", 0) != 0) continue;
    for (DenseDType dtype : kFloatDTypes)
      for (Shape shape : kShapes) {
        const auto w = random_weights(shape, shape.n_in + 99);
        const DenseMatrix m = convert_dense(dtype, w.data(), shape.n_out, shape.n_in);
        const int64_t n_rows = 5;
        const auto x = random_floats(n_rows * shape.n_in, shape.n_out + 98);
        std::vector<float> a(n_rows * shape.n_out), b(n_rows * shape.n_out);
        avx2.gemm[static_cast<int>(dtype)](m, x.data(), n_rows, 0, shape.n_out, a.data());
        table->gemm[static_cast<int>(dtype)](m, x.data(), n_rows, 0, shape.n_out, b.data());
        EXPECT_TRUE(same_bits(a, b)) << label(*table, dtype, shape, n_rows);
      }
  }
}

TEST(DenseKernels, Int8GemmIsBitExactOnEveryTable) {
  for (const DenseKernelTable* table : cpu::runnable_dense_kernel_tables())
    for (Shape shape : kShapes) {
      const DenseMatrix m = random_i8_matrix(shape, shape.n_out * 31 + shape.n_in);
      const auto xq = random_xq(kMaxRows, shape.n_in, shape.n_in + 5);
      const auto gammas = random_floats(kMaxRows, shape.n_in + 6);
      for (int64_t n_rows = 1; n_rows <= kMaxRows; ++n_rows) {
        std::vector<float> expected(n_rows * shape.n_out), got(n_rows * shape.n_out, -7.0f);
        ref::dense_gemm_i8(m, xq.data(), gammas.data(), n_rows, 0, shape.n_out, expected.data());
        table->gemm_i8(m, xq.data(), gammas.data(), n_rows, 0, shape.n_out, got.data());
        ASSERT_TRUE(same_bits(got, expected)) << label(*table, DenseDType::i8_row, shape, n_rows);
      }
    }
}

TEST(DenseKernels, Int8GemmHandlesExtremeDots) {
  // Every code ±127 against every activation -128 or 127, 3000 wide: |dot| near
  // 48.8 million, every product at its extreme.
  const Shape shape{6, 3000};
  std::vector<float> w(shape.n_out * shape.n_in);
  for (int64_t o = 0; o < shape.n_out; ++o)
    for (int64_t i = 0; i < shape.n_in; ++i)
      w[o * shape.n_in + i] = (o % 2 == 0 || i % 3 == 0) ? -1.0f : 1.0f;
  const DenseMatrix m = convert_dense(DenseDType::i8_row, w.data(), shape.n_out, shape.n_in);
  std::vector<int8_t> xq(4 * shape.n_in);
  for (size_t i = 0; i < xq.size(); ++i)
    xq[i] = static_cast<int8_t>(i < 2 * static_cast<size_t>(shape.n_in) ? -128 : 127);
  const std::vector<float> gammas = {127.0f, 127.0f, 127.0f, 127.0f};
  std::vector<float> expected(4 * shape.n_out);
  ref::dense_gemm_i8(m, xq.data(), gammas.data(), 4, 0, shape.n_out, expected.data());
  EXPECT_NEAR(expected[0], 128.0f * 3000.0f, 0.1f);  // s = 1/127, dot = 127·128·3000
  for (const DenseKernelTable* table : cpu::runnable_dense_kernel_tables()) {
    std::vector<float> got(4 * shape.n_out);
    table->gemm_i8(m, xq.data(), gammas.data(), 4, 0, shape.n_out, got.data());
    EXPECT_TRUE(same_bits(got, expected)) << table->name;
  }
}

TEST(DenseKernels, RowRangesComposeToTheFullResult) {
  const Shape shape{37, 300};
  const auto w = random_weights(shape, 21);
  const auto x = random_floats(3 * shape.n_in, 22);
  const auto xq = random_xq(3, shape.n_in, 23);
  const std::vector<float> gammas = {0.5f, 2.0f, 7.0f};
  const std::pair<int64_t, int64_t> ranges[] = {{0, 5}, {5, 6}, {6, 13}, {13, 30}, {30, 37}};
  for (const DenseKernelTable* table : cpu::runnable_dense_kernel_tables()) {
    for (DenseDType dtype : kFloatDTypes) {
      const DenseMatrix m = convert_dense(dtype, w.data(), shape.n_out, shape.n_in);
      for (int64_t n_rows : {1, 3}) {
        std::vector<float> full(n_rows * shape.n_out), split(n_rows * shape.n_out, -1.0f);
        table->gemm[static_cast<int>(dtype)](m, x.data(), n_rows, 0, shape.n_out, full.data());
        for (auto [begin, end] : ranges)
          table->gemm[static_cast<int>(dtype)](m, x.data(), n_rows, begin, end, split.data());
        EXPECT_TRUE(same_bits(split, full)) << label(*table, dtype, shape, n_rows);
      }
    }
    const DenseMatrix m = convert_dense(DenseDType::i8_row, w.data(), shape.n_out, shape.n_in);
    std::vector<float> full(3 * shape.n_out), split(3 * shape.n_out, -1.0f);
    table->gemm_i8(m, xq.data(), gammas.data(), 3, 0, shape.n_out, full.data());
    for (auto [begin, end] : ranges)
      table->gemm_i8(m, xq.data(), gammas.data(), 3, begin, end, split.data());
    EXPECT_TRUE(same_bits(split, full)) << table->name;
  }
}

TEST(DenseKernels, UnalignedWeightsGiveTheSameResult) {
  const Shape shape{6, 1000};
  const auto w = random_weights(shape, 31);
  const auto x = random_floats(2 * shape.n_in, 32);
  const auto xq = random_xq(2, shape.n_in, 33);
  const std::vector<float> gammas = {1.0f, 3.0f};
  for (const DenseKernelTable* table : cpu::runnable_dense_kernel_tables())
    for (DenseDType dtype : kAllDTypes) {
      const DenseMatrix m = convert_dense(dtype, w.data(), shape.n_out, shape.n_in);
      std::vector<uint8_t> shifted(m.data.size() + 1);
      std::memcpy(shifted.data() + 1, m.data.data(), m.data.size());
      DenseMatrixView unaligned = m.view();
      unaligned.data = shifted.data() + 1;
      std::vector<float> a(2 * shape.n_out), b(2 * shape.n_out);
      if (dtype == DenseDType::i8_row) {
        table->gemm_i8(m, xq.data(), gammas.data(), 2, 0, shape.n_out, a.data());
        table->gemm_i8(unaligned, xq.data(), gammas.data(), 2, 0, shape.n_out, b.data());
      } else {
        table->gemm[static_cast<int>(dtype)](m, x.data(), 2, 0, shape.n_out, a.data());
        table->gemm[static_cast<int>(dtype)](unaligned, x.data(), 2, 0, shape.n_out, b.data());
      }
      EXPECT_TRUE(same_bits(a, b)) << table->name << " " << dense_dtype_name(dtype);
    }
}

TEST(DenseKernels, RowToF32IsExactOnEveryTable) {
  for (int64_t n_in : {1, 7, 15, 16, 17, 100, 256, 768, 1001}) {
    auto w = random_weights({5, n_in}, n_in);
    // Specials the conversions must carry through (not for int8, which needs finite).
    std::vector<float> special = w;
    const float specials[] = {std::numeric_limits<float>::infinity(),
                              -0.0f,
                              std::numeric_limits<float>::quiet_NaN(),
                              std::ldexp(1.0f, -24),
                              std::ldexp(3.0f, -20),
                              70000.0f,
                              -1e-30f};
    for (size_t k = 0; k < std::size(specials); ++k)
      special[(k * 37) % special.size()] = specials[k];
    for (const DenseKernelTable* table : cpu::runnable_dense_kernel_tables())
      for (DenseDType dtype : kAllDTypes) {
        const auto& source = dtype == DenseDType::i8_row ? w : special;
        const DenseMatrix m = convert_dense(dtype, source.data(), 5, n_in);
        for (int64_t row = 0; row < 5; ++row) {
          std::vector<float> expected(n_in), got(n_in + 1, 42.0f);
          ref::dense_row_to_f32(m, row, expected.data());
          table->row_to_f32(m, row, got.data());
          EXPECT_EQ(got[n_in], 42.0f) << "wrote past the row";
          for (int64_t i = 0; i < n_in; ++i) {
            if (std::isnan(expected[i])) {
              EXPECT_TRUE(std::isnan(got[i]));
              continue;
            }
            ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(expected[i]))
                << table->name << " " << dense_dtype_name(dtype) << " n_in " << n_in << " row "
                << row << " i " << i;
          }
        }
      }
  }
}

TEST(DenseKernels, DispatchFollowsSetIsa) {
  const Shape shape{19, 500};
  const auto w = random_weights(shape, 41);
  const auto x = random_floats(2 * shape.n_in, 42);
  for (Isa isa : cpu::supported_isas()) {
    cpu::set_isa(isa);
    const DenseKernelTable& table = cpu::dense_kernels(isa);
    EXPECT_EQ(&cpu::active_dense_kernels(), &table);
    for (DenseDType dtype : kAllDTypes) {
      const DenseMatrix m = convert_dense(dtype, w.data(), shape.n_out, shape.n_in);
      std::vector<float> got(2 * shape.n_out), direct(2 * shape.n_out);
      cpu::dense_gemm(m, x.data(), 2, 0, shape.n_out, got.data());
      if (dtype == DenseDType::i8_row) {
        std::vector<int8_t> xq(x.size()), xq_ref(x.size());
        std::vector<float> gammas(2), gammas_ref(2);
        cpu::dense_quantize_rows_i8(x.data(), 2, shape.n_in, xq.data(), gammas.data());
        ref::dense_quantize_rows_i8(x.data(), 2, shape.n_in, xq_ref.data(), gammas_ref.data());
        EXPECT_EQ(xq, xq_ref);
        EXPECT_EQ(gammas, gammas_ref);
        table.gemm_i8(m, xq.data(), gammas.data(), 2, 0, shape.n_out, direct.data());
        std::vector<float> via_i8(2 * shape.n_out), reference(2 * shape.n_out);
        cpu::dense_gemm_i8(m, xq.data(), gammas.data(), 2, 0, shape.n_out, via_i8.data());
        ref::dense_gemm(m, x.data(), 2, 0, shape.n_out, reference.data());
        EXPECT_TRUE(same_bits(via_i8, direct));
        EXPECT_TRUE(same_bits(reference, direct)) << table.name;
      } else {
        table.gemm[static_cast<int>(dtype)](m, x.data(), 2, 0, shape.n_out, direct.data());
      }
      EXPECT_TRUE(same_bits(got, direct)) << table.name << " " << dense_dtype_name(dtype);
      std::vector<float> gemv(shape.n_out);
      cpu::dense_gemv(m, x.data(), 0, shape.n_out, gemv.data());
      EXPECT_TRUE(same_bits(gemv, std::vector<float>(got.begin(), got.begin() + shape.n_out)));
      std::vector<float> row(shape.n_in), row_ref(shape.n_in);
      cpu::dense_row_to_f32(m, 7, row.data());
      ref::dense_row_to_f32(m, 7, row_ref.data());
      EXPECT_TRUE(same_bits(row, row_ref));
    }
  }
  cpu::reset_isa();
}

}  // namespace
}  // namespace bit_ttt
