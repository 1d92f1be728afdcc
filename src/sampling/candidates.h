// The truncation steps of the sampling pipeline, on a list of TokenCandidate.
// Each step returns how many candidates it keeps; the kept ones are the first
// ones of the span. Orders are total (ties broken by id) so the result, and
// with it the draw, is the same with every standard library.
#pragma once

#include <cstddef>
#include <span>

#include "bit_ttt/sampler.h"

namespace bit_ttt {

// Strict total order: higher logit first, then lower id. A function object,
// not a function, so the std algorithms inline it.
struct RanksBefore {
  bool operator()(const TokenCandidate& a, const TokenCandidate& b) const {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
};
inline constexpr RanksBefore ranks_before{};

// Keeps the top_k best (all when top_k is 0 or >= size), sorted best-first.
size_t keep_top_k(std::span<TokenCandidate> candidates, int top_k);

// Sets weight = exp((logit - max_logit) / temperature) and returns the sum
// (at least 1: the best candidate weighs exactly 1). temperature > 0.
double softmax_weights(std::span<TokenCandidate> candidates, float temperature);

// Keeps the smallest best-first set whose weight reaches top_p * total (at
// least one candidate), in an order that depends only on the input (the same
// with every standard library). The first n_sorted candidates must already be
// the best ones in order. Expected O(n): a peaked distribution needs only a
// small sorted head, a flat one is cut by a mass-aware quickselect.
size_t keep_top_p(std::span<TokenCandidate> candidates, size_t n_sorted, double total, float top_p);

// Keeps candidates with weight >= min_p * max weight, in their current order.
size_t keep_min_p(std::span<TokenCandidate> candidates, float min_p);

// The argument checks of a position with n_vocab logits, shared by the CPU and the
// device sampling: returns n_allowed with -1 resolved to n_vocab, or throws.
int32_t checked_n_allowed(size_t n_vocab, int32_t n_allowed);
// The error of a position where no allowed logit is finite (CPU or device sampling).
[[noreturn]] void fail_no_finite_logit(size_t n_allowed);

}  // namespace bit_ttt
