#include "sampling/candidates.h"

#include <algorithm>
#include <cmath>

namespace bit_ttt {

namespace {

// Sorts the best n_head of candidates[from, end) into candidates[from, from + n_head).
void sort_head(std::span<TokenCandidate> candidates, size_t from, size_t n_head) {
  const auto first = candidates.begin() + static_cast<ptrdiff_t>(from);
  const auto head_end = first + static_cast<ptrdiff_t>(n_head);
  const auto end = candidates.end();
  if (head_end < end) {
    if (n_head * 16 <= static_cast<size_t>(end - first)) {
      // A small head over a long tail: keep the best so far as a heap with the
      // worst on top, so most of the tail costs a single comparison against it.
      std::make_heap(first, head_end, ranks_before);
      for (auto it = head_end; it != end; ++it) {
        if (!ranks_before(*it, *first)) continue;
        std::pop_heap(first, head_end, ranks_before);
        std::swap(*(head_end - 1), *it);
        std::push_heap(first, head_end, ranks_before);
      }
    } else {
      std::nth_element(first, head_end - 1, end, ranks_before);
    }
  }
  std::sort(first, head_end, ranks_before);
}

// Index among a, b, c holding the middle candidate by rank.
size_t median_of_three(std::span<const TokenCandidate> c, size_t a, size_t b, size_t c_index) {
  if (ranks_before(c[a], c[b])) {
    if (ranks_before(c[b], c[c_index])) return b;
    return ranks_before(c[a], c[c_index]) ? c_index : a;
  }
  if (ranks_before(c[a], c[c_index])) return a;
  return ranks_before(c[b], c[c_index]) ? c_index : b;
}

// Hand-written rather than std::nth_element because the arrangement it leaves
// and the order it sums in must not depend on the standard library: both feed
// the draw. Partitions [lo, hi) around a median-of-three pivot and returns the
// pivot's final index p: [lo, p) ranks before it, (p, hi) after it. *mass_before
// gets the weight of [lo, p), summed in index order.
size_t partition_around_pivot(std::span<TokenCandidate> c, size_t lo, size_t hi,
                              double* mass_before) {
  const size_t last = hi - 1;
  std::swap(c[median_of_three(c, lo, lo + (hi - lo) / 2, last)], c[last]);
  const TokenCandidate pivot = c[last];
  size_t store = lo;
  double mass = 0.0;
  // Branch-free: on a flat distribution the comparison is a coin flip that
  // a branch predictor cannot learn, so always swap and advance by 0 or 1.
  for (size_t i = lo; i < last; ++i) {
    const TokenCandidate candidate = c[i];
    const bool before = (candidate.logit > pivot.logit) |
                        ((candidate.logit == pivot.logit) & (candidate.id < pivot.id));
    mass += before ? candidate.weight : 0.0;
    c[i] = c[store];
    c[store] = candidate;
    store += before;
  }
  std::swap(c[store], c[last]);
  *mass_before = mass;
  return store;
}

}  // namespace

size_t keep_top_k(std::span<TokenCandidate> candidates, int top_k) {
  const size_t n = candidates.size();
  if (top_k <= 0 || static_cast<size_t>(top_k) >= n) return n;
  const size_t k = static_cast<size_t>(top_k);
  sort_head(candidates, 0, k);
  return k;
}

double softmax_weights(std::span<TokenCandidate> candidates, float temperature) {
  float max_logit = candidates[0].logit;
  for (const TokenCandidate& c : candidates) max_logit = std::max(max_logit, c.logit);
  // Subtracting first (in double) keeps a tiny temperature from overflowing:
  // the gaps go to -inf and their weights to 0, which is the greedy limit.
  const double inv_temperature = 1.0 / static_cast<double>(temperature);
  double total = 0.0;
  for (TokenCandidate& c : candidates) {
    const double gap = static_cast<double>(c.logit) - static_cast<double>(max_logit);
    c.weight = std::exp(gap * inv_temperature);
    total += c.weight;
  }
  return total;
}

size_t keep_top_p(std::span<TokenCandidate> candidates, size_t n_sorted, double total,
                  float top_p) {
  const size_t n = candidates.size();
  if (top_p >= 1.0f) return n;
  const double target = static_cast<double>(top_p) * total;

  // Most of the mass usually sits in a few dozen ids: try a small sorted head.
  constexpr size_t n_head = 64;
  if (n_sorted < n_head && n_sorted < n) {
    const size_t n_new = std::min(n_head, n) - n_sorted;
    sort_head(candidates, n_sorted, n_new);
    n_sorted += n_new;
  }
  double mass = 0.0;
  for (size_t i = 0; i < n_sorted; ++i) {
    mass += candidates[i].weight;
    if (mass >= target) return i + 1;
  }

  // The cut lies in [lo, hi); everything before lo is in and weighs `mass`.
  size_t lo = n_sorted;
  size_t hi = n;
  constexpr size_t n_small = 32;  // below this, sorting beats partitioning
  while (hi - lo > n_small) {
    double mass_before_pivot = 0.0;
    const size_t p = partition_around_pivot(candidates, lo, hi, &mass_before_pivot);
    if (mass + mass_before_pivot >= target) {
      hi = p;  // the cut is before the pivot
    } else if (mass + mass_before_pivot + candidates[p].weight >= target) {
      return p + 1;  // the pivot is the last one in
    } else {
      mass += mass_before_pivot + candidates[p].weight;
      lo = p + 1;
    }
  }
  std::sort(candidates.begin() + static_cast<ptrdiff_t>(lo),
            candidates.begin() + static_cast<ptrdiff_t>(hi), ranks_before);
  for (size_t i = lo; i < hi; ++i) {
    mass += candidates[i].weight;
    if (mass >= target) return i + 1;
  }
  return hi;  // rounding left the mass a hair short of the target: keep it all
}

size_t keep_min_p(std::span<TokenCandidate> candidates, float min_p) {
  const size_t n = candidates.size();
  if (min_p <= 0.0f) return n;
  double max_weight = 0.0;
  for (const TokenCandidate& c : candidates) max_weight = std::max(max_weight, c.weight);
  const double threshold = static_cast<double>(min_p) * max_weight;
  size_t n_kept = 0;
  for (const TokenCandidate& c : candidates) {
    if (c.weight >= threshold) candidates[n_kept++] = c;
  }
  return n_kept;
}

}  // namespace bit_ttt
