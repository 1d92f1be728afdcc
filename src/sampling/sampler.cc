// Sampler: runs the pipeline documented in bit_ttt/sampler.h over one position.
#include <algorithm>
#include <cmath>
#include <limits>

#include "bit_ttt/error.h"
#include "bit_ttt/sampler.h"
#include "sampling/candidates.h"
#include "sampling/penalties.h"
#include "sampling/rng.h"

namespace bit_ttt {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

}  // namespace

int32_t checked_n_allowed(size_t n_vocab, int32_t n_allowed) {
  if (n_vocab == 0) fail("Sampler::sample: logits is empty (n_vocab must be >= 1)");
  if (n_vocab > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("Sampler::sample: n_vocab ", n_vocab, " does not fit token ids (int32)");
  }
  if (n_allowed == -1) n_allowed = static_cast<int32_t>(n_vocab);
  if (n_allowed < 1 || static_cast<size_t>(n_allowed) > n_vocab) {
    fail("Sampler::sample: n_allowed must be -1 (all) or in [1, n_vocab = ", n_vocab, "], got ",
         n_allowed);
  }
  return n_allowed;
}

void fail_no_finite_logit(size_t n_allowed) {
  fail("Sampler::sample: all ", n_allowed,
       " allowed logits are -inf or NaN, there is no token to choose");
}

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {
  params_.validate();
}

double Sampler::next_uniform() {
  return params_.temperature > 0.0f ? uniform_unit(rng_) : 0.0;
}

void Sampler::reseed(uint64_t seed) {
  params_.seed = seed;
  rng_.seed(seed);
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history,
                        int32_t n_allowed) {
  const size_t n_vocab = logits.size();
  const auto n = static_cast<size_t>(checked_n_allowed(n_vocab, n_allowed));

  // resize() on an unchanged size neither allocates nor initialises anew.
  logits_.resize(n);
  for (size_t i = 0; i < n; ++i) logits_[i] = sanitize_logit(logits[i]);
  if (penalty_counts_.size() < n) penalty_counts_.resize(n, 0);

  // 1. repetition, frequency and presence penalties
  apply_penalties(logits_, history, penalty_params(params_), static_cast<int64_t>(n_vocab),
                  penalty_counts_);

  // 2. greedy: strict '>' keeps the lowest id on ties.
  if (params_.temperature <= 0.0f) {
    size_t best = 0;
    for (size_t i = 1; i < n; ++i) {
      if (logits_[i] > logits_[best]) best = i;
    }
    if (logits_[best] == kNegInf) fail_no_finite_logit(n);
    return static_cast<int32_t>(best);
  }

  // -inf ids can never be drawn, so they never enter the candidate list.
  if (candidates_.capacity() < n) candidates_.reserve(n);
  candidates_.clear();
  for (size_t i = 0; i < n; ++i) {
    if (logits_[i] != kNegInf) candidates_.push_back({static_cast<int32_t>(i), logits_[i], 0.0});
  }
  if (candidates_.empty()) fail_no_finite_logit(n);
  std::span<TokenCandidate> kept(candidates_);

  // 3-5. temperature, top-k, softmax. Top-k on logits equals top-k after the
  // temperature (dividing by T > 0 keeps the order), so the division is folded
  // into the softmax where it is done on the gaps to the max and cannot overflow.
  const size_t n_after_top_k = keep_top_k(kept, params_.top_k);
  const bool sorted = n_after_top_k < kept.size();
  kept = kept.first(n_after_top_k);
  double total = softmax_weights(kept, params_.temperature);

  // 6-7. top-p, min-p
  const size_t n_before_truncation = kept.size();
  kept = kept.first(keep_top_p(kept, sorted ? kept.size() : 0, total, params_.top_p));
  kept = kept.first(keep_min_p(kept, params_.min_p));

  // 8. renormalise and draw, walking the kept ids in ascending order whatever order
  // the truncations left them in (a device sampler draws the same way without
  // sorting). Scaling u by the kept mass renormalises for free.
  if (sorted || params_.top_p < 1.0f) {
    std::sort(kept.begin(), kept.end(),
              [](const TokenCandidate& a, const TokenCandidate& b) { return a.id < b.id; });
  }
  if (kept.size() != n_before_truncation) {
    total = 0.0;
    for (const TokenCandidate& c : kept) total += c.weight;
  }
  const double u = uniform_unit(rng_) * total;
  double mass = 0.0;
  for (const TokenCandidate& c : kept) {
    mass += c.weight;
    if (u < mass) return c.id;
  }
  // Rounding can leave u a hair above the summed mass; the last candidate
  // with any weight is then the right answer.
  for (size_t i = kept.size(); i-- > 0;) {
    if (kept[i].weight > 0.0) return kept[i].id;
  }
  return kept[0].id;  // unreachable: the best candidate weighs 1
}

}  // namespace bit_ttt
