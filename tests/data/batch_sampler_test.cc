#include "data/batch_sampler.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "data_test_util.h"
#include "test_util.h"

namespace bit_ttt::testing {
namespace {

using data::BatchSampler;
using data::SamplerState;
using data::TokenBatch;
using data::TokenFile;

// Token i has id i % 1000, so a window's content tells where it starts.
TokenFile counting_file(const TempDir& dir, int64_t n) {
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) tokens[static_cast<size_t>(i)] = static_cast<int32_t>(i % 1000);
  return write_token_file(dir / "tokens.bin", tokens, 1000);
}

void expect_same(const TokenBatch& a, const TokenBatch& b) {
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.targets, b.targets);
}

TEST(BatchSampler, WindowsMatchTheFileAndTargetsAreShifted) {
  TempDir dir;
  const TokenFile file = counting_file(dir, 5000);
  BatchSampler sampler(file, 16, 4, 42);
  for (int b = 0; b < 20; ++b) {
    const TokenBatch batch = sampler.next();
    ASSERT_EQ(batch.batch_size, 4);
    ASSERT_EQ(batch.context, 16);
    ASSERT_EQ(batch.inputs.size(), 64u);
    for (int64_t row = 0; row < 4; ++row) {
      const int64_t offset = batch.offsets[static_cast<size_t>(row)];
      ASSERT_GE(offset, 0);
      ASSERT_LE(offset + 16, file.n_tokens() - 1);
      EXPECT_EQ(offset, sampler.window_offset(static_cast<uint64_t>(b), row));
      for (int64_t t = 0; t < 16; ++t) {
        EXPECT_EQ(batch.inputs[static_cast<size_t>(row * 16 + t)], (offset + t) % 1000);
        EXPECT_EQ(batch.targets[static_cast<size_t>(row * 16 + t)], (offset + t + 1) % 1000);
      }
    }
  }
}

TEST(BatchSampler, SameSeedSameBatchesOtherSeedOthers) {
  TempDir dir;
  const TokenFile file = counting_file(dir, 100000);
  BatchSampler a(file, 8, 8, 1), b(file, 8, 8, 1), c(file, 8, 8, 2);
  for (int i = 0; i < 10; ++i) {
    const TokenBatch batch_a = a.next();
    expect_same(batch_a, b.next());
    EXPECT_NE(batch_a.offsets, c.next().offsets);
  }
}

TEST(BatchSampler, ResumeContinuesIdentically) {
  TempDir dir;
  const TokenFile file = counting_file(dir, 20000);
  BatchSampler original(file, 32, 3, 1234);
  for (int i = 0; i < 7; ++i) original.next();
  const SamplerState saved = original.state();
  EXPECT_EQ(saved.seed, 1234u);
  EXPECT_EQ(saved.n_batches_drawn, 7u);
  std::vector<TokenBatch> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(original.next());

  // A fresh sampler (even built with another seed) takes the saved stream over.
  BatchSampler resumed(TokenFile::open(dir / "tokens.bin"), 32, 3, 999);
  resumed.restore(saved);
  TokenBatch batch;  // storage reuse path
  for (const auto& want : expected) {
    resumed.next(batch);
    expect_same(batch, want);
  }
  EXPECT_EQ(resumed.state().n_batches_drawn, 12u);

  // Rewinding works too: state 0 replays from the start.
  BatchSampler fresh(file, 32, 3, 1234);
  const TokenBatch first = fresh.next();
  resumed.restore({1234, 0, 32, 3, file.n_tokens()});
  expect_same(resumed.next(), first);
}

TEST(BatchSampler, RestoreRejectsAStateForOtherSettings) {
  TempDir dir;
  const TokenFile file = counting_file(dir, 1000);
  BatchSampler sampler(file, 16, 4, 1);
  SamplerState state = sampler.state();
  state.batch_size = 8;
  expect_error([&] { sampler.restore(state); }, {"cannot resume", "batch size 8", "batch size 4"});
  state = sampler.state();
  state.n_tokens = 999;
  expect_error([&] { sampler.restore(state); }, {"over 999 tokens", "over 1000 tokens"});
}

TEST(BatchSampler, EveryStartIsReachable) {
  TempDir dir;
  const TokenFile file = counting_file(dir, 20);
  BatchSampler sampler(file, 4, 16, 7);
  std::set<int64_t> starts;
  for (int i = 0; i < 50; ++i)
    for (int64_t offset : sampler.next().offsets) starts.insert(offset);
  EXPECT_EQ(starts.size(), 16u);  // 0 .. n - context - 1
  EXPECT_EQ(*starts.begin(), 0);
  EXPECT_EQ(*starts.rbegin(), 15);
}

TEST(BatchSampler, ExactlyOneWindow) {
  TempDir dir;
  const TokenFile file = counting_file(dir, 9);
  BatchSampler sampler(file, 8, 2, 0);
  const TokenBatch batch = sampler.next();
  EXPECT_EQ(batch.offsets, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(batch.targets[7], 8);
}

TEST(BatchSampler, RejectsTooShortFilesAndBadShapes) {
  TempDir dir;
  const TokenFile file = counting_file(dir, 8);
  expect_error([&] { BatchSampler(file, 8, 1, 0); },
               {"tokens.bin", "8 tokens", "too few for one window of context 8"});
  expect_error([&] { BatchSampler(file, 0, 1, 0); }, {"context must be >= 1"});
  expect_error([&] { BatchSampler(file, 2, 0, 0); }, {"batch size must be >= 1"});
  expect_error([&] { data::validation_batches(file, 8, 1, 0); }, {"too few"});
}

TEST(ValidationBatches, WalkTheFileInOrder) {
  TempDir dir;
  const TokenFile file = counting_file(dir, 41);  // (41 - 1) / 8 = 5 windows
  const auto batches = data::validation_batches(file, 8, 3, 0);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].batch_size, 3);
  EXPECT_EQ(batches[1].batch_size, 2);  // partial last batch kept
  EXPECT_EQ(batches[0].offsets, (std::vector<int64_t>{0, 8, 16}));
  EXPECT_EQ(batches[1].offsets, (std::vector<int64_t>{24, 32}));
  ASSERT_EQ(batches[1].inputs.size(), 16u);
  for (int64_t i = 0; i < 16; ++i) {
    EXPECT_EQ(batches[1].inputs[static_cast<size_t>(i)], 24 + i);
    EXPECT_EQ(batches[1].targets[static_cast<size_t>(i)], 25 + i);
  }
  EXPECT_EQ(data::validation_batches(file, 8, 3, 1).size(), 1u);
  const auto again = data::validation_batches(file, 8, 3, 0);
  for (size_t b = 0; b < batches.size(); ++b) expect_same(batches[b], again[b]);
  EXPECT_EQ(data::validation_batches(file, 40, 4, 0).size(), 1u);
}

}  // namespace
}  // namespace bit_ttt::testing
