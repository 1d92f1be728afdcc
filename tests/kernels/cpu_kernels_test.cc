// Every CPU kernel against its scalar reference (kernels/ref), on sizes that
// exercise the SIMD bodies and the scalar tails.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernel_test_inputs.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/ref/ref_kernels.h"

namespace bit_ttt {
namespace {

using testing::random_codes;
using testing::random_floats;

const int64_t kSizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 256, 1000, 1024, 1031};

TEST(CpuKernels, DotF32MatchesReference) {
  for (int64_t n : kSizes) {
    auto x = random_floats(n, 1 + n), w = random_floats(n, 2 + n);
    double exact = 0;
    for (int64_t i = 0; i < n; ++i) exact += double(x[i]) * w[i];
    double magnitude = 0;
    for (int64_t i = 0; i < n; ++i) magnitude += std::fabs(double(x[i]) * w[i]);
    EXPECT_NEAR(cpu::dot_f32(x.data(), w.data(), n), exact, 1e-6 * magnitude + 1e-7) << n;
    EXPECT_NEAR(ref::dot_f32(x.data(), w.data(), n), exact, 1e-6 * magnitude + 1e-7) << n;
  }
}

TEST(CpuKernels, DotF32TernaryMatchesReference) {
  for (int64_t n : kSizes) {
    auto x = random_floats(n, 3 + n);
    auto codes = random_codes(n, 4 + n);
    double magnitude = 0;
    for (int64_t i = 0; i < n; ++i) magnitude += std::fabs(x[i]);
    EXPECT_NEAR(cpu::dot_f32_ternary(x.data(), codes.data(), n),
                ref::dot_f32_ternary(x.data(), codes.data(), n), 2e-6 * magnitude + 1e-7)
        << n;
  }
}

TEST(CpuKernels, DotI8TernaryIsExactIncludingMinus128) {
  for (int64_t n : kSizes) {
    std::mt19937_64 engine(n);
    std::vector<int8_t> xq(n);
    for (int8_t& v : xq) v = static_cast<int8_t>(static_cast<int>(engine() % 256) - 128);
    xq[0] = -128;
    auto codes = random_codes(n, 5 + n);
    codes[0] = -1;  // -128 * -1 must give +128 (a sign-trick kernel would wrap)
    int64_t exact = 0;
    for (int64_t i = 0; i < n; ++i) exact += int64_t(xq[i]) * codes[i];
    EXPECT_EQ(cpu::dot_i8_ternary(xq.data(), codes.data(), n), exact) << n;
    EXPECT_EQ(ref::dot_i8_ternary(xq.data(), codes.data(), n), exact) << n;
  }
}

TEST(CpuKernels, RmsNormMatchesReference) {
  for (int64_t n : kSizes) {
    auto x = random_floats(n, 6 + n), w = random_floats(n, 7 + n);
    std::vector<float> fast(n), slow(n);
    cpu::rms_norm_row(x.data(), w.data(), 1e-5f, n, fast.data());
    ref::rms_norm_row(x.data(), w.data(), 1e-5f, n, slow.data());
    double mean_square = 0;
    for (float v : x) mean_square += double(v) * v;
    mean_square /= n;
    for (int64_t i = 0; i < n; ++i) {
      const double exact = x[i] / std::sqrt(mean_square + 1e-5) * w[i];
      EXPECT_NEAR(fast[i], exact, 1e-5 * (std::fabs(exact) + 1e-3)) << n << " " << i;
      EXPECT_NEAR(slow[i], exact, 1e-5 * (std::fabs(exact) + 1e-3)) << n << " " << i;
    }
  }
}

TEST(CpuKernels, L2NormalizeAndTttStepMatchReference) {
  for (int64_t d : {1, 4, 8, 16, 33, 64}) {
    auto k = random_floats(d, 8 + d);
    auto k_ref = k;
    cpu::l2_normalize_row(k.data(), d, 1e-6f);
    ref::l2_normalize_row(k_ref.data(), d, 1e-6f);
    for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(k[i], k_ref[i], 1e-6);

    auto state = random_floats(d * d, 9 + d, 0.1f);
    auto state_ref = state;
    std::vector<float> p(d), p_ref(d);
    cpu::ttt_step(state.data(), k.data(), d, 0.1f, p.data());
    ref::ttt_step(state_ref.data(), k.data(), d, 0.1f, p_ref.data());
    for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(p[i], p_ref[i], 1e-6);
    for (int64_t i = 0; i < d * d; ++i) EXPECT_NEAR(state[i], state_ref[i], 1e-6);
  }
}

TEST(RefKernels, TttStepFollowsTheSpecFormula) {
  // S = [[1,2],[3,4]], f = [0.6, 0.8], η = 0.5: p = S f, S' = S − η (p − f) fᵀ.
  std::vector<float> state = {1, 2, 3, 4};
  const float f[2] = {0.6f, 0.8f};
  float p[2];
  ref::ttt_step(state.data(), f, 2, 0.5f, p);
  EXPECT_FLOAT_EQ(p[0], 2.2f);
  EXPECT_FLOAT_EQ(p[1], 5.0f);
  EXPECT_FLOAT_EQ(state[0], 1 - 0.5f * (2.2f - 0.6f) * 0.6f);
  EXPECT_FLOAT_EQ(state[1], 2 - 0.5f * (2.2f - 0.6f) * 0.8f);
  EXPECT_FLOAT_EQ(state[2], 3 - 0.5f * (5.0f - 0.8f) * 0.6f);
  EXPECT_FLOAT_EQ(state[3], 4 - 0.5f * (5.0f - 0.8f) * 0.8f);
}

TEST(RefKernels, TernaryQuantizeRoundsHalfToEvenAndClamps) {
  // mean|W| = 1 -> β = 1; 0.5 -> 0 (half to even), 1.5 -> 2 -> clamped 1, -2.5 -> -1.
  const float weight[6] = {0.5f, 1.5f, -2.5f, -0.49f, 0.51f, 0.0f};
  // mean |W| = (0.5+1.5+2.5+0.49+0.51+0)/6 = 5.5/6
  int8_t codes[6];
  const float beta = ref::ternary_quantize(weight, 6, codes);
  EXPECT_FLOAT_EQ(beta, 5.5f / 6.0f);
  // W/β: 0.545→1, 1.64→1, -2.73→-1, -0.53→-1, 0.556→1, 0→0
  const int8_t expected[6] = {1, 1, -1, -1, 1, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(codes[i], expected[i]) << i;

  const float halves[4] = {0.5f, -0.5f, 1.0f, 2.0f};  // β = 1: 0.5→0, -0.5→-0, 1→1, 2→1
  const float beta2 = ref::ternary_quantize(halves, 4, codes);
  EXPECT_FLOAT_EQ(beta2, 1.0f);
  EXPECT_EQ(codes[0], 0);
  EXPECT_EQ(codes[1], 0);
  EXPECT_EQ(codes[2], 1);
  EXPECT_EQ(codes[3], 1);

  const float zeros[3] = {0, 0, 0};  // β floors at 1e-5
  EXPECT_FLOAT_EQ(ref::ternary_quantize(zeros, 3, codes), 1e-5f);
}

TEST(RefKernels, Int8QuantizeUsesAbsmaxAndHalfToEven) {
  const float x[4] = {-2.0f, 1.0f, 0.0f, 2.0f * (0.5f / 127.0f)};
  int8_t xq[4];
  const float gamma = ref::int8_quantize_row(x, 4, xq);
  EXPECT_FLOAT_EQ(gamma, 2.0f);
  EXPECT_EQ(xq[0], -127);
  EXPECT_EQ(xq[1], 64);  // 63.5 -> 64 (even)
  EXPECT_EQ(xq[2], 0);
  EXPECT_EQ(xq[3], 0);  // 0.5 -> 0 (even)
  const float tiny[2] = {0.0f, 0.0f};
  EXPECT_FLOAT_EQ(ref::int8_quantize_row(tiny, 2, xq), 1e-5f);
}

TEST(RefKernels, SwigluIsSiluTimesUp) {
  const float gate[3] = {-1.0f, 0.0f, 2.0f}, up[3] = {2.0f, 5.0f, -1.0f};
  float out[3];
  ref::swiglu_row(gate, up, 3, out);
  for (int i = 0; i < 3; ++i) {
    const double g = gate[i];
    EXPECT_NEAR(out[i], g / (1 + std::exp(-g)) * up[i], 1e-6);
  }
}

}  // namespace
}  // namespace bit_ttt

namespace bit_ttt {
namespace {

// The vectorized SiLU (polynomial e^x) against std::exp, across the whole range
// including saturation (|g| > 87) and an odd length (the scalar tail).
TEST(CpuKernels, SwigluMatchesTheReferenceWithinFloatRounding) {
  std::vector<float> gate, up;
  for (float g = -120.0f; g <= 120.0f; g += 0.0371f) {
    gate.push_back(g);
    up.push_back(0.5f + 0.01f * static_cast<float>(gate.size() % 13));
  }
  gate.push_back(0.0f);
  up.push_back(3.0f);
  const int64_t n = static_cast<int64_t>(gate.size());
  std::vector<float> expected(gate.size()), got(gate.size());
  ref::swiglu_row(gate.data(), up.data(), n, expected.data());
  cpu::swiglu_row(gate.data(), up.data(), n, got.data());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_NEAR(got[i], expected[i], 1e-6f * std::fabs(expected[i]) + 1e-30f) << "g = " << gate[i];
}

}  // namespace
}  // namespace bit_ttt
