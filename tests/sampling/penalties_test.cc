// The repetition, frequency and presence penalties on exact values (every
// expected logit below is exact in float), then through the Sampler.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bit_ttt/error.h"
#include "bit_ttt/sampler.h"
#include "sampling/penalties.h"

namespace bit_ttt {
namespace {

// Runs apply_penalties on a copy of `logits` and checks the scratch comes back clean.
std::vector<float> penalised(std::vector<float> logits, const std::vector<int32_t>& history,
                             const PenaltyParams& params) {
  std::vector<int32_t> counts(logits.size(), 0);
  apply_penalties(logits, history, params, static_cast<int64_t>(logits.size()), counts);
  for (int32_t count : counts) EXPECT_EQ(count, 0);
  return logits;
}

PenaltyParams frequency_presence(float frequency, float presence, int repeat_last_n = 64) {
  return PenaltyParams{1.0f, frequency, presence, repeat_last_n};
}

TEST(PenaltiesTest, FrequencyPenaltySubtractsCountTimesPenalty) {
  const std::vector<float> out =
      penalised({1.0f, 1.0f, 1.0f, 1.0f}, {0, 0, 0, 2}, frequency_presence(0.5f, 0.0f));
  EXPECT_EQ(out, (std::vector<float>{-0.5f, 1.0f, 0.5f, 1.0f}));
}

TEST(PenaltiesTest, PresencePenaltySubtractsOncePerSeenId) {
  const std::vector<float> out =
      penalised({1.0f, 1.0f, 1.0f, 1.0f}, {0, 0, 0, 2}, frequency_presence(0.0f, 0.25f));
  EXPECT_EQ(out, (std::vector<float>{0.75f, 1.0f, 0.75f, 1.0f}));
}

TEST(PenaltiesTest, RepetitionComesFirstThenFrequencyAndPresence) {
  // id 0: 2 / 2 - (1 * 0.5 + 0.25); id 1: -1 * 2 - (2 * 0.5 + 0.25).
  const std::vector<float> out =
      penalised({2.0f, -1.0f, 3.0f}, {0, 1, 1}, PenaltyParams{2.0f, 0.5f, 0.25f, 64});
  EXPECT_EQ(out, (std::vector<float>{0.25f, -3.25f, 3.0f}));
}

TEST(PenaltiesTest, NegativePenaltiesRewardRepeats) {
  const std::vector<float> out =
      penalised({0.0f, 0.0f}, {1, 1, 1}, frequency_presence(-0.5f, -1.0f));
  EXPECT_EQ(out, (std::vector<float>{0.0f, 2.5f}));
}

TEST(PenaltiesTest, OnlyTheLastNEntriesCount) {
  const std::vector<int32_t> history = {0, 0, 0, 1};
  EXPECT_EQ(penalised({4.0f, 4.0f}, history, frequency_presence(1.0f, 0.0f, 2)),
            (std::vector<float>{3.0f, 3.0f}));
  EXPECT_EQ(penalised({4.0f, 4.0f}, history, frequency_presence(1.0f, 0.0f, -1)),
            (std::vector<float>{1.0f, 3.0f}));
  EXPECT_EQ(penalised({4.0f, 4.0f}, history, frequency_presence(1.0f, 0.0f, 0)),
            (std::vector<float>{4.0f, 4.0f}));
}

TEST(PenaltiesTest, IdsPastTheLogitsAreLeftAlone) {
  std::vector<float> logits = {1.0f, 1.0f};
  std::vector<int32_t> counts(2, 0);
  apply_penalties(logits, std::vector<int32_t>{3, 1, 3}, frequency_presence(1.0f, 1.0f),
                  /*n_vocab=*/4, counts);
  EXPECT_EQ(logits, (std::vector<float>{1.0f, -1.0f}));
  EXPECT_EQ(counts, (std::vector<int32_t>{0, 0}));
}

TEST(PenaltiesTest, ABadHistoryIdThrowsAndLeavesTheScratchClean) {
  std::vector<float> logits = {1.0f, 1.0f};
  std::vector<int32_t> counts(2, 0);
  EXPECT_THROW(apply_penalties(logits, std::vector<int32_t>{0, 2}, frequency_presence(1.0f, 0.0f),
                               2, counts),
               Error);
  EXPECT_EQ(logits, (std::vector<float>{1.0f, 1.0f}));
  EXPECT_EQ(counts, (std::vector<int32_t>{0, 0}));
}

// --- through the Sampler ------------------------------------------------------

TEST(PenaltiesTest, FrequencyPenaltyGrowsWithTheCountInTheSampler) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.frequency_penalty = 0.3f;
  Sampler sampler(params);
  const std::vector<float> logits = {2.0f, 1.5f};
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{0}), 0);        // 1.7 > 1.5
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{0, 0}), 1);     // 1.4 < 1.5
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{0, 0, 1}), 0);  // 1.4 > 1.2
}

TEST(PenaltiesTest, PresencePenaltyShapesTheDistribution) {
  // Equal logits; presence ln 2 on id 0 halves its weight: p = 1/3, 2/3.
  SamplingParams params;
  params.temperature = 1.0f;
  params.seed = 17;
  params.presence_penalty = static_cast<float>(std::log(2.0));
  Sampler sampler(params);
  const std::vector<float> logits = {0.0f, 0.0f};
  int n_zero = 0;
  const int n_draws = 30000;
  for (int i = 0; i < n_draws; ++i) n_zero += sampler.sample(logits, std::vector<int32_t>{0}) == 0;
  // Binomial(30000, 1/3): sd 82, so +-400 is about 5 sd.
  EXPECT_NEAR(n_zero, n_draws / 3, 400);
}

TEST(PenaltiesTest, DefaultsLeaveTheLogitsAlone) {
  Sampler sampler(SamplingParams{});
  const SamplingParams& params = sampler.params();
  EXPECT_EQ(params.frequency_penalty, 0.0f);
  EXPECT_EQ(params.presence_penalty, 0.0f);
  const std::vector<float> out =
      penalised({1.0f, 2.0f}, {0, 1, 1},
                PenaltyParams{params.repetition_penalty, params.frequency_penalty,
                              params.presence_penalty, params.repeat_last_n});
  EXPECT_EQ(out, (std::vector<float>{1.0f, 2.0f}));
}

}  // namespace
}  // namespace bit_ttt
