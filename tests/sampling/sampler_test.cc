#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "bit_ttt/sampler.h"

namespace bit_ttt {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
const std::vector<int32_t> kNoHistory;

SamplingParams with_temperature(float temperature, uint64_t seed = 1) {
  SamplingParams params;
  params.temperature = temperature;
  params.seed = seed;
  return params;
}

// Logits whose softmax (at temperature 1) is exactly `probs` up to rounding.
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (double p : probs) logits.push_back(p > 0 ? static_cast<float>(std::log(p)) : -kInf);
  return logits;
}

std::vector<int> draw_counts(Sampler& sampler, const std::vector<float>& logits, int n_draws) {
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < n_draws; ++i) ++counts.at(sampler.sample(logits, kNoHistory));
  return counts;
}

// Checks that ids with expected probability 0 never appear, and that the
// chi-square statistic of the rest stays under the 0.1% critical value for
// its degrees of freedom. Draws use fixed seeds, so this is deterministic;
// the tolerance only has to admit an honest sampler.
void expect_frequencies(const std::vector<int>& counts, std::vector<double> expected) {
  ASSERT_EQ(counts.size(), expected.size());
  double sum = 0.0;
  for (double p : expected) sum += p;
  int n_draws = 0;
  for (int c : counts) n_draws += c;
  double chi_square = 0.0;
  int n_categories = 0;
  for (size_t id = 0; id < counts.size(); ++id) {
    if (expected[id] == 0.0) {
      EXPECT_EQ(counts[id], 0) << "id " << id << " should never be drawn";
      continue;
    }
    const double expected_count = n_draws * expected[id] / sum;
    chi_square += (counts[id] - expected_count) * (counts[id] - expected_count) / expected_count;
    ++n_categories;
  }
  // 99.9% quantiles of chi-square with 1..6 degrees of freedom.
  const double critical[] = {0.0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46};
  const int dof = n_categories - 1;
  ASSERT_GE(dof, 0);
  ASSERT_LE(dof, 6);
  if (dof == 0) return;
  EXPECT_LT(chi_square, critical[dof]) << "dof " << dof;
}

std::vector<float> random_logits(size_t n_vocab, uint64_t seed, float scale = 4.0f) {
  std::mt19937_64 rng(seed);
  std::vector<float> logits(n_vocab);
  for (float& logit : logits) {
    logit = scale * static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53 - 0.5);
  }
  return logits;
}

// --- greedy -----------------------------------------------------------------

TEST(SamplerTest, GreedyPicksArgmax) {
  const std::vector<float> logits = {0.1f, 2.5f, -1.0f, 2.4f};
  Sampler zero(with_temperature(0.0f));
  Sampler negative(with_temperature(-1.0f));
  EXPECT_EQ(zero.sample(logits, kNoHistory), 1);
  EXPECT_EQ(negative.sample(logits, kNoHistory), 1);
}

TEST(SamplerTest, GreedyBreaksTiesTowardsTheLowestId) {
  Sampler sampler(with_temperature(0.0f));
  EXPECT_EQ(sampler.sample(std::vector<float>{1.0f, 3.0f, 3.0f, 2.0f}, kNoHistory), 1);
  EXPECT_EQ(sampler.sample(std::vector<float>{5.0f, 5.0f}, kNoHistory), 0);
}

TEST(SamplerTest, NaNLogitsAreNeverChosen) {
  const std::vector<float> logits = {kNaN, 1.0f, kNaN, -3.0f};
  Sampler greedy(with_temperature(0.0f));
  EXPECT_EQ(greedy.sample(logits, kNoHistory), 1);
  Sampler sampler(with_temperature(1.0f));
  const std::vector<int> counts = draw_counts(sampler, logits, 2000);
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[2], 0);
}

TEST(SamplerTest, InfiniteLogitsWinOverFiniteOnes) {
  Sampler sampler(with_temperature(1.0f));
  const std::vector<int> one = draw_counts(sampler, {1.0f, kInf, 50.0f}, 500);
  EXPECT_EQ(one[1], 500);
  // Two +inf split the mass evenly.
  expect_frequencies(draw_counts(sampler, {kInf, 3.0f, kInf}, 4000), {0.5, 0.0, 0.5});
}

// --- temperature --------------------------------------------------------------

TEST(SamplerTest, TemperatureTowardsZeroApproachesGreedy) {
  const std::vector<float> logits = {1.0f, 1.01f, 0.99f, -2.0f};
  int previous_argmax_count = 0;
  for (float temperature : {1.0f, 0.1f, 0.01f, 1e-4f, 1e-30f}) {
    SCOPED_TRACE(temperature);
    Sampler sampler(with_temperature(temperature, 3));
    const int argmax_count = draw_counts(sampler, logits, 2000)[1];
    EXPECT_GE(argmax_count, previous_argmax_count);
    previous_argmax_count = argmax_count;
  }
  EXPECT_EQ(previous_argmax_count, 2000);  // no overflow to NaN at 1e-30 either
}

TEST(SamplerTest, FrequenciesFollowTheSoftmax) {
  const std::vector<double> probs = {0.4, 0.05, 0.3, 0.15, 0.1};
  Sampler sampler(with_temperature(1.0f, 11));
  expect_frequencies(draw_counts(sampler, logits_for(probs), 20000), probs);
}

TEST(SamplerTest, TemperatureFlattensTheSoftmax) {
  const std::vector<double> probs = {0.4, 0.05, 0.3, 0.15, 0.1};
  std::vector<double> flattened;  // softmax(log p / 2) is proportional to sqrt(p)
  for (double p : probs) flattened.push_back(std::sqrt(p));
  Sampler sampler(with_temperature(2.0f, 12));
  expect_frequencies(draw_counts(sampler, logits_for(probs), 20000), flattened);
}

// --- top-k --------------------------------------------------------------------

TEST(SamplerTest, TopKOfOneIsGreedy) {
  SamplingParams params = with_temperature(1.5f, 5);
  params.top_k = 1;
  Sampler top1(params);
  Sampler greedy(with_temperature(0.0f));
  for (uint64_t position = 0; position < 50; ++position) {
    const std::vector<float> logits = random_logits(1000, position, 0.5f);
    EXPECT_EQ(top1.sample(logits, kNoHistory), greedy.sample(logits, kNoHistory));
  }
}

TEST(SamplerTest, TopKKeepsTheKBestRenormalised) {
  SamplingParams params = with_temperature(1.0f, 13);
  params.top_k = 3;
  Sampler sampler(params);
  const std::vector<double> probs = {0.1, 0.3, 0.05, 0.25, 0.2, 0.1};
  expect_frequencies(draw_counts(sampler, logits_for(probs), 20000),
                     {0.0, 0.3, 0.0, 0.25, 0.2, 0.0});
}

// --- top-p --------------------------------------------------------------------

TEST(SamplerTest, TopPKeepsTheSmallestSetReachingP) {
  const std::vector<double> probs = {0.1, 0.5, 0.15, 0.25};
  struct Case {
    float top_p;
    std::vector<double> expected;
  };
  const Case cases[] = {
      {0.3f, {0.0, 0.5, 0.0, 0.0}},     // 0.5 alone reaches 0.3
      {0.7f, {0.0, 0.5, 0.0, 0.25}},    // 0.5 < 0.7 <= 0.75
      {0.8f, {0.0, 0.5, 0.15, 0.25}},   // 0.75 < 0.8 <= 0.9
      {0.95f, {0.1, 0.5, 0.15, 0.25}},  // needs everything
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.top_p);
    SamplingParams params = with_temperature(1.0f, 17);
    params.top_p = c.top_p;
    Sampler sampler(params);
    expect_frequencies(draw_counts(sampler, logits_for(probs), 20000), c.expected);
  }
}

TEST(SamplerTest, TopPWorksOnTheTopKRenormalisedDistribution) {
  // After top-k = 2 the pair is {4/7, 3/7}; 4/7 alone reaches 0.55. Without
  // top-k, 0.4 alone would not, and token 1 would stay in.
  const std::vector<double> probs = {0.4, 0.3, 0.2, 0.1};
  SamplingParams params = with_temperature(1.0f, 19);
  params.top_k = 2;
  params.top_p = 0.55f;
  Sampler sampler(params);
  EXPECT_EQ(draw_counts(sampler, logits_for(probs), 1000)[0], 1000);

  params.top_k = 0;
  Sampler no_top_k(params);
  expect_frequencies(draw_counts(no_top_k, logits_for(probs), 20000), {0.4, 0.3, 0.0, 0.0});
}

TEST(SamplerTest, TopPOnALargeFlatTailSortsOnlyWhatItNeeds) {
  // 1000 equal logits: top-p 0.5 keeps exactly the 500 lowest ids (ties by id).
  SamplingParams params = with_temperature(1.0f, 23);
  params.top_p = 0.5f;
  Sampler sampler(params);
  const std::vector<float> logits(1000, 0.25f);
  for (int i = 0; i < 3000; ++i) EXPECT_LT(sampler.sample(logits, kNoHistory), 500);
}

// --- the draw -------------------------------------------------------------------

// The draw walks the kept ids in ascending order whatever the truncations did to
// their order, so a truncation that keeps everything (or drops only what can never
// be drawn) leaves every seeded choice as it was. The GPU sampler draws this way.
TEST(SamplerTest, TruncationThatKeepsEverythingDrawsLikeNoTruncation) {
  std::vector<float> logits = random_logits(500, 41);
  logits[123] = -200.0f;  // weighs exp(-200): never drawn, the one token top-k drops
  const SamplingParams plain = with_temperature(1.0f, 43);
  SamplingParams keep_all_p = plain;
  keep_all_p.top_p = 0.999999f;
  SamplingParams drop_one_k = plain;
  drop_one_k.top_k = 499;
  Sampler a(plain), b(keep_all_p), c(drop_one_k);
  for (int i = 0; i < 300; ++i) {
    const int32_t want = a.sample(logits, kNoHistory);
    EXPECT_EQ(b.sample(logits, kNoHistory), want) << "draw " << i;
    EXPECT_EQ(c.sample(logits, kNoHistory), want) << "draw " << i;
  }
}

// --- min-p --------------------------------------------------------------------

TEST(SamplerTest, MinPKeepsTokensNearTheBest) {
  const std::vector<double> probs = {0.05, 0.5, 0.15, 0.3};
  SamplingParams params = with_temperature(1.0f, 29);
  params.min_p = 0.25f;  // keeps p >= 0.125
  Sampler sampler(params);
  expect_frequencies(draw_counts(sampler, logits_for(probs), 20000), {0.0, 0.5, 0.15, 0.3});

  params.min_p = 1.0f;  // only the best
  Sampler strict(params);
  EXPECT_EQ(draw_counts(strict, logits_for(probs), 1000)[1], 1000);
}

TEST(SamplerTest, MinPAppliesAfterTopP) {
  const std::vector<double> probs = {0.05, 0.5, 0.15, 0.3};
  SamplingParams params = with_temperature(1.0f, 31);
  params.top_p = 0.9f;   // drops 0.05
  params.min_p = 0.35f;  // then drops 0.15 (< 0.175)
  Sampler sampler(params);
  expect_frequencies(draw_counts(sampler, logits_for(probs), 20000), {0.0, 0.5, 0.0, 0.3});
}

// --- repetition penalty -------------------------------------------------------

SamplingParams greedy_with_penalty(float penalty, int repeat_last_n) {
  SamplingParams params = with_temperature(0.0f);
  params.repetition_penalty = penalty;
  params.repeat_last_n = repeat_last_n;
  return params;
}

TEST(SamplerTest, RepetitionPenaltyDividesPositiveLogits) {
  const std::vector<float> logits = {2.0f, 1.9f, -1.0f};
  Sampler sampler(greedy_with_penalty(1.5f, 64));
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{}), 0);
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{0}), 1);  // 2 / 1.5 < 1.9
}

TEST(SamplerTest, RepetitionPenaltyMultipliesNegativeLogits) {
  const std::vector<float> logits = {-1.0f, -1.2f};
  Sampler sampler(greedy_with_penalty(1.5f, 64));
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{0}), 1);  // -1.5 < -1.2
  // Dividing a negative logit would have raised it instead.
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{1}), 0);
}

TEST(SamplerTest, RepetitionPenaltyCountsEachIdOnce) {
  Sampler sampler(greedy_with_penalty(1.5f, 64));
  // Once: 2 / 1.5 = 1.33 > 1. Three times would be 0.59 < 1.
  EXPECT_EQ(sampler.sample(std::vector<float>{2.0f, 1.0f}, std::vector<int32_t>{0, 0, 0}), 0);
}

TEST(SamplerTest, RepetitionPenaltyLooksOnlyAtTheLastN) {
  // Penalising id 0 (2.0 -> 1.33) hands the win to the untouched id 2.
  const std::vector<float> logits = {2.0f, 1.9f, 1.5f};
  const std::vector<int32_t> history = {0, 1};
  EXPECT_EQ(Sampler(greedy_with_penalty(1.5f, 1)).sample(logits, history), 0);    // sees {1}
  EXPECT_EQ(Sampler(greedy_with_penalty(1.5f, 2)).sample(logits, history), 2);    // sees {0, 1}
  EXPECT_EQ(Sampler(greedy_with_penalty(1.5f, 100)).sample(logits, history), 2);  // all there is
  EXPECT_EQ(Sampler(greedy_with_penalty(1.5f, -1)).sample(logits, history), 2);   // all
  EXPECT_EQ(Sampler(greedy_with_penalty(1.5f, 0)).sample(logits, history), 0);    // none
}

TEST(SamplerTest, RepetitionPenaltyBelowOneFavoursRepeats) {
  Sampler sampler(greedy_with_penalty(0.5f, 64));
  EXPECT_EQ(sampler.sample(std::vector<float>{2.0f, 1.5f}, std::vector<int32_t>{1}), 1);
}

// A penalty below 1 divides FLT_MAX (the clamped +inf) back past it: the result is
// clamped again, so the best token stays the one drawn rather than a NaN softmax.
TEST(SamplerTest, APenaltyThatOverflowsIsClampedAgain) {
  const std::vector<float> logits = {0.0f, kInf};
  for (const float temperature : {0.0f, 1.0f}) {
    SamplingParams params = with_temperature(temperature, 3);
    params.repetition_penalty = 0.8f;
    Sampler sampler(params);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{1}), 1);
  }
}

TEST(SamplerTest, RepetitionPenaltyAlsoShapesSampling) {
  const std::vector<double> probs = {0.5, 0.5};
  SamplingParams params = with_temperature(1.0f, 37);
  params.repetition_penalty = 2.0f;
  Sampler sampler(params);
  // log 0.5 < 0, so the penalty doubles it: weights 0.25 and 0.5.
  std::vector<int> counts(2, 0);
  const std::vector<float> logits = logits_for(probs);
  for (int i = 0; i < 20000; ++i) ++counts[sampler.sample(logits, std::vector<int32_t>{0})];
  expect_frequencies(counts, {0.25, 0.5});
}

// --- seeds --------------------------------------------------------------------

std::vector<int32_t> draw_sequence(Sampler& sampler, int n_draws) {
  const std::vector<float> logits = random_logits(64, 99, 2.0f);
  std::vector<int32_t> ids;
  for (int i = 0; i < n_draws; ++i) ids.push_back(sampler.sample(logits, kNoHistory));
  return ids;
}

TEST(SamplerTest, SameSeedGivesTheSameSequence) {
  SamplingParams params = with_temperature(1.0f, 1234);
  params.top_k = 40;
  params.top_p = 0.95f;
  Sampler a(params);
  Sampler b(params);
  EXPECT_EQ(draw_sequence(a, 200), draw_sequence(b, 200));
}

TEST(SamplerTest, DifferentSeedsGiveDifferentSequences) {
  Sampler a(with_temperature(1.0f, 1));
  Sampler b(with_temperature(1.0f, 2));
  EXPECT_NE(draw_sequence(a, 200), draw_sequence(b, 200));
}

TEST(SamplerTest, ReseedRestartsTheStream) {
  Sampler sampler(with_temperature(1.0f, 77));
  const std::vector<int32_t> first = draw_sequence(sampler, 100);
  EXPECT_NE(draw_sequence(sampler, 100), first);  // the stream moved on
  sampler.reseed(77);
  EXPECT_EQ(draw_sequence(sampler, 100), first);
}

// The exact choices for one seed. mt19937_64 is fixed by the C++ standard and
// the uniform double is built by hand, so these hold with any standard library;
// a change here means users' seeded runs change too.
TEST(SamplerTest, SeededChoicesAreStable) {
  SamplingParams params = with_temperature(1.0f, 42);
  Sampler sampler(params);
  const std::vector<float> logits = logits_for({0.1, 0.2, 0.3, 0.4});
  std::vector<int32_t> ids;
  for (int i = 0; i < 16; ++i) ids.push_back(sampler.sample(logits, kNoHistory));
  EXPECT_EQ(ids, (std::vector<int32_t>{3, 3, 3, 1, 3, 0, 2, 2, 1, 2, 0, 2, 3, 3, 3, 3}));
}

// --- n_allowed ------------------------------------------------------------------

TEST(SamplerTest, NAllowedExcludesTheTailOfTheVocab) {
  const std::vector<float> logits = {0.0f, 1.0f, 0.5f, 9.0f, 8.0f};
  Sampler greedy(with_temperature(0.0f));
  EXPECT_EQ(greedy.sample(logits, kNoHistory, 3), 1);
  EXPECT_EQ(greedy.sample(logits, kNoHistory, -1), 3);
  Sampler sampler(with_temperature(1.0f, 41));
  for (int i = 0; i < 2000; ++i) EXPECT_LT(sampler.sample(logits, kNoHistory, 3), 3);
  // History may hold ids the model has but the tokenizer does not.
  EXPECT_LT(sampler.sample(logits, std::vector<int32_t>{4, 3}, 3), 3);
}

// --- errors ---------------------------------------------------------------------

std::string sample_error(const std::vector<float>& logits, const std::vector<int32_t>& history,
                         int32_t n_allowed, float temperature = 1.0f) {
  SamplingParams params = with_temperature(temperature);
  params.repetition_penalty = 1.1f;
  Sampler sampler(params);
  try {
    sampler.sample(logits, history, n_allowed);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(SamplerTest, BadArgumentsAreRejected) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  EXPECT_NE(sample_error({}, {}, -1).find("empty"), std::string::npos);
  for (int32_t n_allowed : {0, -2, 4}) {
    SCOPED_TRACE(n_allowed);
    const std::string message = sample_error(logits, {}, n_allowed);
    EXPECT_NE(message.find("n_allowed"), std::string::npos) << message;
    EXPECT_NE(message.find("[1, n_vocab = 3]"), std::string::npos) << message;
  }
  for (int32_t id : {-1, 3}) {
    SCOPED_TRACE(id);
    const std::string message = sample_error(logits, {0, id}, -1);
    EXPECT_NE(message.find("history id"), std::string::npos) << message;
    EXPECT_NE(message.find("[0, 3)"), std::string::npos) << message;
  }
}

TEST(SamplerTest, NoFiniteLogitIsAnError) {
  for (float temperature : {0.0f, 1.0f}) {
    SCOPED_TRACE(temperature);
    EXPECT_NE(sample_error({-kInf, -kInf}, {}, -1, temperature).find("-inf or NaN"),
              std::string::npos);
    EXPECT_NE(sample_error({kNaN, kNaN, -kInf}, {}, -1, temperature).find("-inf or NaN"),
              std::string::npos);
    // Finite logits beyond n_allowed do not count.
    EXPECT_NE(sample_error({-kInf, 1.0f}, {}, 1, temperature).find("-inf or NaN"),
              std::string::npos);
  }
}

TEST(SamplerTest, AnErrorLeavesTheSamplerUsable) {
  SamplingParams params = with_temperature(0.0f);
  params.repetition_penalty = 2.0f;
  Sampler sampler(params);
  const std::vector<float> logits = {2.0f, 1.5f, 1.0f};
  EXPECT_THROW(sampler.sample(logits, std::vector<int32_t>{0, 7}), Error);
  // Id 0 must not be left marked as "already penalised" by the failed call.
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{0}), 1);
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{}), 0);
}

// --- large vocab ----------------------------------------------------------------

TEST(SamplerTest, LargeVocabWithEveryStageStaysInTheKeptSet) {
  const size_t n_vocab = 128256;
  std::vector<float> logits = random_logits(n_vocab, 5, 6.0f);
  logits[70000] = 12.0f;
  logits[12] = 11.5f;
  SamplingParams params = with_temperature(0.7f, 43);
  params.top_k = 40;
  params.top_p = 0.9f;
  params.min_p = 0.05f;
  params.repetition_penalty = 1.1f;
  Sampler sampler(params);
  const std::vector<int32_t> history = {5, 6, 7};
  for (int i = 0; i < 200; ++i) {
    const int32_t id = sampler.sample(logits, history);
    EXPECT_TRUE(id == 70000 || id == 12) << id;
  }
}

}  // namespace
}  // namespace bit_ttt
