// The truncation steps against straightforward full-sort versions, on vocab
// sizes where the partial sorting actually kicks in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sampling/candidates.h"

namespace bit_ttt {
namespace {

std::vector<TokenCandidate> random_candidates(size_t n, uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  std::vector<TokenCandidate> candidates;
  for (size_t i = 0; i < n; ++i) {
    // Coarse logits so ties are common and the id tie-break matters.
    const float logit = static_cast<float>(
        std::round(scale * static_cast<double>(rng() >> 11) * 0x1.0p-53 * 64.0) / 64.0);
    candidates.push_back({static_cast<int32_t>(i), logit, 0.0});
  }
  return candidates;
}

std::vector<int32_t> ids_of(std::span<const TokenCandidate> candidates) {
  std::vector<int32_t> ids;
  for (const TokenCandidate& c : candidates) ids.push_back(c.id);
  return ids;
}

// The kept set as sorted ids: top-p keeps a set, not an order.
std::vector<int32_t> sorted_ids(std::span<const TokenCandidate> candidates) {
  std::vector<int32_t> ids = ids_of(candidates);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(CandidatesTest, TopKMatchesAFullSort) {
  for (int top_k : {1, 2, 40, 1000, 128255}) {
    SCOPED_TRACE(top_k);
    std::vector<TokenCandidate> candidates = random_candidates(128256, top_k, 8.0);
    std::vector<TokenCandidate> reference = candidates;
    std::sort(reference.begin(), reference.end(), ranks_before);
    const size_t n_kept = keep_top_k(candidates, top_k);
    ASSERT_EQ(n_kept, static_cast<size_t>(top_k));
    EXPECT_EQ(ids_of(std::span(candidates).first(n_kept)),
              ids_of(std::span(reference).first(n_kept)));
  }
}

TEST(CandidatesTest, TopKOffOrTooLargeKeepsEverythingInPlace) {
  std::vector<TokenCandidate> candidates = random_candidates(100, 1, 8.0);
  const std::vector<int32_t> before = ids_of(candidates);
  EXPECT_EQ(keep_top_k(candidates, 0), 100u);
  EXPECT_EQ(keep_top_k(candidates, 100), 100u);
  EXPECT_EQ(keep_top_k(candidates, 5000), 100u);
  EXPECT_EQ(ids_of(candidates), before);
}

TEST(CandidatesTest, SoftmaxWeightsAreRelativeToTheBest) {
  std::vector<TokenCandidate> candidates = {{0, 1.0f, 0}, {1, 3.0f, 0}, {2, 2.0f, 0}};
  const double total = softmax_weights(candidates, 2.0f);
  EXPECT_EQ(candidates[1].weight, 1.0);
  EXPECT_NEAR(candidates[0].weight, std::exp(-1.0), 1e-15);
  EXPECT_NEAR(candidates[2].weight, std::exp(-0.5), 1e-15);
  EXPECT_NEAR(total, 1.0 + std::exp(-1.0) + std::exp(-0.5), 1e-15);

  // Logits far apart at a tiny temperature: no overflow, just 0 weights.
  std::vector<TokenCandidate> extreme = {{0, -3e38f, 0}, {1, 3e38f, 0}};
  EXPECT_EQ(softmax_weights(extreme, 1e-30f), 1.0);
  EXPECT_EQ(extreme[0].weight, 0.0);
}

// Reference top-p: sort everything, take the prefix.
size_t reference_top_p(std::vector<TokenCandidate>& candidates, double total, float top_p) {
  std::sort(candidates.begin(), candidates.end(), ranks_before);
  double mass = 0.0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    mass += candidates[i].weight;
    if (mass >= static_cast<double>(top_p) * total) return i + 1;
  }
  return candidates.size();
}

TEST(CandidatesTest, TopPMatchesAFullSort) {
  for (double scale : {0.5, 8.0, 40.0}) {  // flat, medium and peaked distributions
    for (float top_p : {1e-6f, 0.1f, 0.5f, 0.9f, 0.999f, 0.99999f}) {
      SCOPED_TRACE(testing::Message() << "scale " << scale << " top_p " << top_p);
      std::vector<TokenCandidate> candidates = random_candidates(128256, 3, scale);
      const double total = softmax_weights(candidates, 1.0f);
      std::vector<TokenCandidate> reference = candidates;
      const size_t n_expected = reference_top_p(reference, total, top_p);
      const size_t n_kept = keep_top_p(candidates, 0, total, top_p);
      ASSERT_EQ(n_kept, n_expected);
      EXPECT_EQ(sorted_ids(std::span(candidates).first(n_kept)),
                sorted_ids(std::span(reference).first(n_kept)));
    }
  }
}

TEST(CandidatesTest, TopPUsesAnAlreadySortedPrefix) {
  std::vector<TokenCandidate> candidates = random_candidates(5000, 4, 8.0);
  const double total = softmax_weights(candidates, 1.0f);
  std::vector<TokenCandidate> reference = candidates;
  const size_t n_expected = reference_top_p(reference, total, 0.8f);
  std::sort(candidates.begin(), candidates.end(), ranks_before);
  EXPECT_EQ(keep_top_p(candidates, candidates.size(), total, 0.8f), n_expected);
}

TEST(CandidatesTest, MinPKeepsOrderAndTheThreshold) {
  // Kept: weight >= 0.1 * 0.8; weights are kept off the exact threshold
  // because 0.1f is not 0.1.
  std::vector<TokenCandidate> candidates = {
      {0, 0, 0.2}, {1, 0, 0.8}, {2, 0, 0.07}, {3, 0, 0.09}, {4, 0, 0.5}};
  const size_t n_kept = keep_min_p(candidates, 0.1f);
  EXPECT_EQ(ids_of(std::span(candidates).first(n_kept)), (std::vector<int32_t>{0, 1, 3, 4}));
}

}  // namespace
}  // namespace bit_ttt
