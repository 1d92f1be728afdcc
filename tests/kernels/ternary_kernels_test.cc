// Every packed ternary kernel of every ISA this machine runs against the scalar
// reference: exact for int8, a tolerance for f32 plus bit-exact determinism
// (GEMM row == GEMV, row ranges, AVX2 == AVX-512), on awkward shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernel_test_inputs.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ternary_kernels.h"
#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/ternary_packed_ref.h"

namespace bit_ttt {
namespace {

using testing::random_floats;
using testing::random_xq;

using cpu::Isa;

constexpr TernaryFormat kFormats[] = {TernaryFormat::i2, TernaryFormat::tq1};
struct Shape {
  int64_t n_out, n_in;
};
// n_in around both block sizes (160, 256) and their multiples; n_out up to 300;
// n_in = 5000 makes the GEMM tiles smaller than 4 rows (they keep x within L1).
constexpr Shape kShapes[] = {{1, 1},     {3, 5},    {2, 31},   {7, 100},  {5, 159},
                             {4, 160},   {6, 161},  {9, 255},  {8, 256},  {10, 257},
                             {3, 320},   {300, 64}, {257, 33}, {17, 511}, {13, 768},
                             {11, 1000}, {2, 1100}, {3, 5000}, {3, 0}};
constexpr int64_t kRowCounts[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17};

// Codes in {-1, 0, 1}; every 5th row all -1 and every 7th all +1, so x = -128
// meets -1 (a sign trick would wrap) and sums reach their extremes.
std::vector<int8_t> random_codes(int64_t n_out, int64_t n_in, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<int8_t> codes(static_cast<size_t>(n_out * n_in));
  for (int64_t o = 0; o < n_out; ++o)
    for (int64_t i = 0; i < n_in; ++i) {
      int code = static_cast<int>(engine() % 3) - 1;
      if (o % 5 == 4) code = -1;
      if (o % 7 == 6) code = 1;
      codes[o * n_in + i] = static_cast<int8_t>(code);
    }
  return codes;
}

std::string label(const cpu::TernaryKernelTable& table, TernaryFormat format, Shape shape,
                  int64_t n_rows) {
  return std::string(table.name) + " " + std::string(ternary_format_name(format)) + " " +
         std::to_string(shape.n_out) + "x" + std::to_string(shape.n_in) +
         " R=" + std::to_string(n_rows);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(TernaryKernels, ScalarIsAlwaysSupported) {
  const auto isas = cpu::supported_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::scalar);
  EXPECT_EQ(isas.back(), cpu::detect_isa());
  std::printf("[ testing ISAs up to %s; cpu: %s ]\n",
              std::string(cpu::isa_name(isas.back())).c_str(), cpu::cpu_features_string().c_str());
}

TEST(TernaryKernels, Int8GemmIsExactOnEveryIsa) {
  for (const cpu::TernaryKernelTable* table : cpu::runnable_ternary_kernel_tables()) {
    const cpu::TernaryKernelTable& kernels = *table;
    for (TernaryFormat format : kFormats)
      for (Shape shape : kShapes) {
        const auto codes = random_codes(shape.n_out, shape.n_in, shape.n_out * 1000 + shape.n_in);
        const PackedTernary w = pack_ternary(format, codes.data(), shape.n_out, shape.n_in, 1.0f);
        for (int64_t n_rows : kRowCounts) {
          const auto xq = random_xq(n_rows, shape.n_in, n_rows + shape.n_in);
          std::vector<int32_t> expected(n_rows * shape.n_out), got(n_rows * shape.n_out, -7);
          ref::ternary_gemm_i8(w, xq.data(), n_rows, 0, shape.n_out, expected.data());
          kernels.gemm_i8[static_cast<int>(format)](w, xq.data(), n_rows, 0, shape.n_out,
                                                    got.data());
          ASSERT_EQ(got, expected) << label(kernels, format, shape, n_rows);
        }
      }
  }
}

TEST(TernaryKernels, Int8ReferenceEqualsTheUnpackedDot) {
  for (TernaryFormat format : kFormats) {
    const int64_t n_out = 9, n_in = 333, n_rows = 3;
    const auto codes = random_codes(n_out, n_in, 5);
    const auto xq = random_xq(n_rows, n_in, 6);
    const PackedTernary w = pack_ternary(format, codes.data(), n_out, n_in, 1.0f);
    std::vector<int32_t> out(n_rows * n_out);
    ref::ternary_gemm_i8(w, xq.data(), n_rows, 0, n_out, out.data());
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t o = 0; o < n_out; ++o) {
        int64_t exact = 0;
        for (int64_t i = 0; i < n_in; ++i) exact += int64_t{xq[r * n_in + i]} * codes[o * n_in + i];
        EXPECT_EQ(out[r * n_out + o], exact);
      }
  }
}

TEST(TernaryKernels, F32ReferenceEqualsTheUnpackedDotBitForBit) {
  for (TernaryFormat format : kFormats) {
    const int64_t n_out = 9, n_in = 333, n_rows = 3;
    const auto codes = random_codes(n_out, n_in, 5);
    const auto x = random_floats(n_rows * n_in, 7);
    const PackedTernary w = pack_ternary(format, codes.data(), n_out, n_in, 1.0f);
    std::vector<float> out(n_rows * n_out);
    ref::ternary_gemm_f32(w, x.data(), n_rows, 0, n_out, out.data());
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t o = 0; o < n_out; ++o)
        EXPECT_EQ(out[r * n_out + o],
                  ref::dot_f32_ternary(x.data() + r * n_in, codes.data() + o * n_in, n_in));
  }
}

TEST(TernaryKernels, F32GemmMatchesReferenceAndEachRowIsItsGemv) {
  for (const cpu::TernaryKernelTable* table : cpu::runnable_ternary_kernel_tables()) {
    const cpu::TernaryKernelTable& kernels = *table;
    for (TernaryFormat format : kFormats)
      for (Shape shape : kShapes) {
        const auto codes = random_codes(shape.n_out, shape.n_in, shape.n_out * 1000 + shape.n_in);
        const PackedTernary w = pack_ternary(format, codes.data(), shape.n_out, shape.n_in, 1.0f);
        const auto gemm = kernels.gemm_f32[static_cast<int>(format)];
        for (int64_t n_rows : kRowCounts) {
          const auto x = random_floats(n_rows * shape.n_in, 3 * n_rows + shape.n_in);
          std::vector<float> expected(n_rows * shape.n_out), got(n_rows * shape.n_out);
          ref::ternary_gemm_f32(w, x.data(), n_rows, 0, shape.n_out, expected.data());
          gemm(w, x.data(), n_rows, 0, shape.n_out, got.data());
          for (int64_t r = 0; r < n_rows; ++r) {
            double magnitude = 0;
            for (int64_t i = 0; i < shape.n_in; ++i) magnitude += std::fabs(x[r * shape.n_in + i]);
            std::vector<float> gemv(shape.n_out);
            gemm(w, x.data() + r * shape.n_in, 1, 0, shape.n_out, gemv.data());
            for (int64_t o = 0; o < shape.n_out; ++o) {
              const float value = got[r * shape.n_out + o];
              ASSERT_NEAR(value, expected[r * shape.n_out + o], 1e-5 * magnitude + 1e-6)
                  << label(kernels, format, shape, n_rows) << " row " << r << " out " << o;
              // Bit for bit, whatever the batch: prefill == streaming.
              ASSERT_EQ(std::memcmp(&value, &gemv[o], sizeof(float)), 0)
                  << label(kernels, format, shape, n_rows) << " row " << r << " out " << o;
            }
          }
        }
      }
  }
}

TEST(TernaryKernels, ScalarF32KernelIsTheReference) {
  const cpu::TernaryKernelTable& kernels = cpu::ternary_kernels(Isa::scalar);
  for (TernaryFormat format : kFormats) {
    const auto codes = random_codes(20, 700, 11);
    const PackedTernary w = pack_ternary(format, codes.data(), 20, 700, 1.0f);
    const auto x = random_floats(3 * 700, 12);
    std::vector<float> expected(60), got(60);
    ref::ternary_gemm_f32(w, x.data(), 3, 0, 20, expected.data());
    kernels.gemm_f32[static_cast<int>(format)](w, x.data(), 3, 0, 20, got.data());
    EXPECT_TRUE(same_bits(got, expected));
  }
}

TEST(TernaryKernels, Avx2AndAvx512F32AreBitIdentical) {
  if (!cpu::isa_supported(Isa::avx512)) GTEST_SKIP() << "needs AVX-512";
  const auto& avx2 = cpu::ternary_kernels(Isa::avx2);
  const auto& avx512 = cpu::ternary_kernels(Isa::avx512);
  for (TernaryFormat format : kFormats)
    for (Shape shape : kShapes) {
      const auto codes = random_codes(shape.n_out, shape.n_in, shape.n_in + 99);
      const PackedTernary w = pack_ternary(format, codes.data(), shape.n_out, shape.n_in, 1.0f);
      const int64_t n_rows = 5;
      const auto x = random_floats(n_rows * shape.n_in, shape.n_out + 98);
      std::vector<float> a(n_rows * shape.n_out), b(n_rows * shape.n_out);
      avx2.gemm_f32[static_cast<int>(format)](w, x.data(), n_rows, 0, shape.n_out, a.data());
      avx512.gemm_f32[static_cast<int>(format)](w, x.data(), n_rows, 0, shape.n_out, b.data());
      EXPECT_TRUE(same_bits(a, b)) << label(avx512, format, shape, n_rows);
    }
}

TEST(TernaryKernels, RowRangesComposeToTheFullResult) {
  const int64_t n_out = 37, n_in = 900, n_rows = 3;
  const auto codes = random_codes(n_out, n_in, 21);
  const auto xq = random_xq(n_rows, n_in, 22);
  const auto x = random_floats(n_rows * n_in, 23);
  for (const cpu::TernaryKernelTable* table : cpu::runnable_ternary_kernel_tables())
    for (TernaryFormat format : kFormats) {
      const cpu::TernaryKernelTable& kernels = *table;
      const PackedTernary w = pack_ternary(format, codes.data(), n_out, n_in, 1.0f);
      const int f = static_cast<int>(format);
      std::vector<int32_t> full_i8(n_rows * n_out), split_i8(n_rows * n_out, -1);
      std::vector<float> full_f32(n_rows * n_out), split_f32(n_rows * n_out, -1.0f);
      kernels.gemm_i8[f](w, xq.data(), n_rows, 0, n_out, full_i8.data());
      kernels.gemm_f32[f](w, x.data(), n_rows, 0, n_out, full_f32.data());
      for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 5}, {5, 6}, {6, 30}, {30, 37}}) {
        kernels.gemm_i8[f](w, xq.data(), n_rows, begin, end, split_i8.data());
        kernels.gemm_f32[f](w, x.data(), n_rows, begin, end, split_f32.data());
      }
      EXPECT_EQ(split_i8, full_i8) << table->name;
      EXPECT_TRUE(same_bits(split_f32, full_f32)) << table->name;
    }
}

TEST(TernaryKernels, UnalignedWeightsAndRepeatedCallsGiveTheSameResult) {
  const int64_t n_out = 6, n_in = 1000, n_rows = 2;
  const auto codes = random_codes(n_out, n_in, 31);
  const auto xq = random_xq(n_rows, n_in, 32);
  const auto x = random_floats(n_rows * n_in, 33);
  for (const cpu::TernaryKernelTable* table : cpu::runnable_ternary_kernel_tables())
    for (TernaryFormat format : kFormats) {
      const cpu::TernaryKernelTable& kernels = *table;
      const PackedTernary w = pack_ternary(format, codes.data(), n_out, n_in, 1.0f);
      std::vector<uint8_t> shifted(w.data.size() + 1);
      std::memcpy(shifted.data() + 1, w.data.data(), w.data.size());
      TernaryMatrixView unaligned = w.view();
      unaligned.data = shifted.data() + 1;
      const int f = static_cast<int>(format);
      std::vector<int32_t> a_i8(n_rows * n_out), b_i8(n_rows * n_out);
      std::vector<float> a_f32(n_rows * n_out), b_f32(n_rows * n_out);
      kernels.gemm_i8[f](w, xq.data(), n_rows, 0, n_out, a_i8.data());
      kernels.gemm_i8[f](unaligned, xq.data(), n_rows, 0, n_out, b_i8.data());
      kernels.gemm_f32[f](w, x.data(), n_rows, 0, n_out, a_f32.data());
      kernels.gemm_f32[f](unaligned, x.data(), n_rows, 0, n_out, b_f32.data());
      EXPECT_EQ(a_i8, b_i8);
      EXPECT_TRUE(same_bits(a_f32, b_f32));
    }
}

TEST(TernaryKernels, QuantizeRowEqualsReferenceBitForBit) {
  std::vector<std::vector<float>> rows;
  for (int64_t n : {1, 7, 15, 16, 17, 31, 32, 33, 100, 1000, 4099})
    rows.push_back(random_floats(n, n));
  // γ = 127 makes x·127/γ = x exactly: .5 ties must round to even like std::nearbyint.
  rows.push_back({127.0f,  0.5f, -0.5f,       1.5f,    2.5f,  -2.5f,  126.5f,
                  -127.0f, 3.5f, 0.49999997f, -126.5f, 4.5f,  5.5f,   6.5f,
                  7.5f,    8.5f, 9.5f,        10.5f,   11.5f, -12.5f, 13.5f});
  rows.push_back(std::vector<float>(40, 0.0f));  // γ = 1e-5
  rows.push_back({1e-7f, -3e-6f, 2e-6f});
  for (Isa isa : cpu::supported_isas()) {
    const cpu::TernaryKernelTable& kernels = cpu::ternary_kernels(isa);
    for (const auto& row : rows) {
      const int64_t n = static_cast<int64_t>(row.size());
      std::vector<int8_t> expected(n), got(n, 99);
      const float gamma_expected = ref::int8_quantize_row(row.data(), n, expected.data());
      const float gamma = kernels.quantize_row_i8(row.data(), n, got.data());
      EXPECT_EQ(gamma, gamma_expected) << cpu::isa_name(isa) << " n=" << n;
      EXPECT_EQ(got, expected) << cpu::isa_name(isa) << " n=" << n;
    }
  }
}

TEST(TernaryKernels, DispatchFollowsSetIsa) {
  const int64_t n_out = 19, n_in = 500;
  const auto codes = random_codes(n_out, n_in, 41);
  const auto xq = random_xq(1, n_in, 42);
  const auto x = random_floats(n_in, 43);
  const PackedTernary w = pack_ternary(TernaryFormat::i2, codes.data(), n_out, n_in, 1.0f);
  std::vector<int32_t> expected_i8(n_out);
  ref::ternary_gemm_i8(w, xq.data(), 1, 0, n_out, expected_i8.data());
  for (Isa isa : cpu::supported_isas()) {
    cpu::set_isa(isa);
    EXPECT_EQ(cpu::active_isa(), isa);
    std::vector<int32_t> got_i8(n_out);
    cpu::ternary_gemv_i8(w, xq.data(), 0, n_out, got_i8.data());
    EXPECT_EQ(got_i8, expected_i8);
    std::vector<float> got_f32(n_out), direct_f32(n_out);
    cpu::ternary_gemv_f32(w, x.data(), 0, n_out, got_f32.data());
    cpu::ternary_kernels(isa).gemm_f32[0](w, x.data(), 1, 0, n_out, direct_f32.data());
    EXPECT_TRUE(same_bits(got_f32, direct_f32));
    std::vector<int8_t> q(n_in), q_ref(n_in);
    EXPECT_EQ(cpu::ternary_quantize_row_i8(x.data(), n_in, q.data()),
              ref::int8_quantize_row(x.data(), n_in, q_ref.data()));
    EXPECT_EQ(q, q_ref);
  }
  cpu::reset_isa();
}

}  // namespace
}  // namespace bit_ttt
