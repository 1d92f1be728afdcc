// The CPU backend's ops against the reference kernels, and the properties the
// model relies on: batched rows equal single rows bit for bit, every output
// computed once by the thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "backend/backend.h"
#include "core/thread_pool.h"
#include "kernel_test_inputs.h"
#include "kernels/ref/ref_kernels.h"

namespace bit_ttt {
namespace {

using testing::random_tensor;

class BitLinearTest : public ::testing::TestWithParam<std::tuple<ActivationQuant, TernaryFormat>> {
};

TEST_P(BitLinearTest, MatchesReferenceAndBatchedEqualsSingleRows) {
  const auto [mode, format] = GetParam();
  Backend& backend = cpu_backend();
  const int64_t n_out = 37, n_in = 70, rows = 5;
  Tensor latent = random_tensor({n_out, n_in}, 11, 0.02f);
  TernaryWeight weight = backend.prepare_ternary(latent, format);

  std::vector<int8_t> ref_codes(n_out * n_in);
  const float ref_beta =
      ref::ternary_quantize(latent.data<float>(), latent.numel(), ref_codes.data());
  EXPECT_EQ(weight.beta, ref_beta);
  std::vector<int8_t> codes(ref_codes.size());
  unpack_ternary(weight.packed, codes.data());
  EXPECT_EQ(0, std::memcmp(codes.data(), ref_codes.data(), ref_codes.size()));

  Tensor x = random_tensor({rows, n_in}, 12);
  Tensor batched = backend.empty(DType::f32, {rows, n_out});
  backend.bit_linear(x, weight, mode, batched);
  for (int64_t r = 0; r < rows; ++r) {
    Tensor single = backend.empty(DType::f32, {1, n_out});
    backend.bit_linear(x.rows(r, 1), weight, mode, single);
    EXPECT_EQ(0, std::memcmp(single.raw(), batched.rows(r, 1).raw(), sizeof(float) * n_out));

    std::vector<float> expected(n_out);
    std::vector<int8_t> scratch(n_in);
    if (mode == ActivationQuant::none)
      ref::bit_linear_row_f32(x.data<float>() + r * n_in, ref_codes.data(), ref_beta, n_out, n_in,
                              expected.data());
    else
      ref::bit_linear_row_i8(x.data<float>() + r * n_in, ref_codes.data(), ref_beta, n_out, n_in,
                             scratch.data(), expected.data());
    for (int64_t o = 0; o < n_out; ++o)
      EXPECT_NEAR(batched.data<float>()[r * n_out + o], expected[o],
                  1e-5 * (1 + std::fabs(expected[o])));
  }
}

// The gate/up pair: one quantization and one loop, each output bit for bit its own
// bit_linear, including when the two weights have different heights.
TEST_P(BitLinearTest, PairEqualsTwoSingleProjections) {
  const auto [mode, format] = GetParam();
  Backend& backend = cpu_backend();
  const int64_t n_in = 300, rows = 3;
  TernaryWeight a = backend.prepare_ternary(random_tensor({129, n_in}, 41, 0.02f), format);
  TernaryWeight b = backend.prepare_ternary(random_tensor({64, n_in}, 42, 0.02f), format);
  Tensor x = random_tensor({rows, n_in}, 43);
  Tensor out_a = backend.empty(DType::f32, {rows, 129}),
         out_b = backend.empty(DType::f32, {rows, 64});
  backend.bit_linear_pair(x, a, b, mode, out_a, out_b);
  Tensor single_a = backend.empty(DType::f32, {rows, 129}),
         single_b = backend.empty(DType::f32, {rows, 64});
  backend.bit_linear(x, a, mode, single_a);
  backend.bit_linear(x, b, mode, single_b);
  EXPECT_EQ(0, std::memcmp(out_a.raw(), single_a.raw(), out_a.n_bytes()));
  EXPECT_EQ(0, std::memcmp(out_b.raw(), single_b.raw(), out_b.n_bytes()));
}

INSTANTIATE_TEST_SUITE_P(
    ModesAndFormats, BitLinearTest,
    ::testing::Combine(::testing::Values(ActivationQuant::none, ActivationQuant::int8),
                       ::testing::Values(TernaryFormat::i2, TernaryFormat::tq1)));

TEST(CpuBackend, DenseLinearRmsNormSwigluTttScan) {
  Backend& backend = cpu_backend();
  const int64_t rows = 3, n_in = 40, n_out = 300, d = 8;
  Tensor x = random_tensor({rows, n_in}, 21);
  Tensor w = random_tensor({n_out, n_in}, 22);
  Tensor y = backend.empty(DType::f32, {rows, n_out});
  backend.dense_linear(x, backend.prepare_dense(w, DenseDType::f32), y);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < n_out; ++o)
      EXPECT_NEAR(y.data<float>()[r * n_out + o],
                  ref::dot_f32(x.data<float>() + r * n_in, w.data<float>() + o * n_in, n_in), 1e-4);

  Tensor norm_w = random_tensor({n_in}, 23);
  Tensor normed = backend.empty(DType::f32, {rows, n_in});
  backend.rms_norm(x, norm_w, 1e-5f, normed);
  std::vector<float> expected(n_in);
  for (int64_t r = 0; r < rows; ++r) {
    ref::rms_norm_row(x.data<float>() + r * n_in, norm_w.data<float>(), 1e-5f, n_in,
                      expected.data());
    for (int64_t i = 0; i < n_in; ++i)
      EXPECT_NEAR(normed.data<float>()[r * n_in + i], expected[i],
                  1e-5 * (1 + std::fabs(expected[i])));
  }

  Tensor f = random_tensor({rows, d}, 24);
  backend.l2_normalize_rows(f, 1e-6f);
  Tensor state = backend.empty(DType::f32, {d, d});
  Tensor p = backend.empty(DType::f32, {rows, d});
  backend.ttt_scan(f, 0.1f, state, p);
  std::vector<float> ref_state(d * d, 0.0f), ref_p(d);
  for (int64_t t = 0; t < rows; ++t) {
    ref::ttt_step(ref_state.data(), f.data<float>() + t * d, d, 0.1f, ref_p.data());
    for (int64_t i = 0; i < d; ++i) EXPECT_NEAR(p.data<float>()[t * d + i], ref_p[i], 1e-6);
  }
  for (int64_t i = 0; i < d * d; ++i) EXPECT_NEAR(state.data<float>()[i], ref_state[i], 1e-6);
}

TEST(CpuBackend, EmbeddingRejectsOutOfRangeIds) {
  Backend& backend = cpu_backend();
  Tensor table = random_tensor({4, 3}, 31);
  Tensor out = backend.empty(DType::f32, {1, 3});
  const int32_t bad[1] = {4};
  const DenseWeight dense = backend.prepare_dense(table, DenseDType::f32);
  EXPECT_THROW(backend.embedding(dense, bad, out), std::exception);
  const int32_t good[1] = {2};
  backend.embedding(dense, good, out);
  EXPECT_EQ(0, std::memcmp(out.raw(), table.data<float>() + 6, 3 * sizeof(float)));
}

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 5, 17, 1000}) {
    for (int64_t grain : {1, 4, 64}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1);
    }
  }
}

// More threads than cores: workers are often descheduled, so the caller claims
// their chunks; every index must still run exactly once per call, and a late
// worker must never run a chunk of a job that has already finished.
TEST(ThreadPool, OversubscribedPoolRunsEveryChunkOnceAcrossManyJobs) {
  ThreadPool pool(6);
  std::vector<std::atomic<int>> hits(100);
  for (int job = 0; job < 3000; ++job) {
    const int64_t n = 1 + job % 100;
    pool.parallel_for(n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
    });
  }
  for (int64_t i = 0; i < 100; ++i) {
    int expected = 0;
    for (int job = 0; job < 3000; ++job) expected += i < 1 + job % 100;
    EXPECT_EQ(hits[static_cast<size_t>(i)].load(), expected) << i;
  }
}

TEST(Devices, CudaIsAClearErrorWithoutABackend) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu);
  try {
    parse_device("tpu");
    FAIL();
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("valid devices: cpu, cuda"), std::string::npos);
  }
  if (!device_available(Device::cuda)) {
    EXPECT_THROW(backend_for(Device::cuda), std::exception);
  }
}

}  // namespace
}  // namespace bit_ttt
