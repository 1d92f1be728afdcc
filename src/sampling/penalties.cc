#include "sampling/penalties.h"

#include <cmath>

#include "bit_ttt/error.h"

namespace bit_ttt {

std::span<const int32_t> penalty_window(std::span<const int32_t> history,
                                        const PenaltyParams& params, int64_t n_vocab) {
  const bool off = params.repetition == 1.0f && params.frequency == 0.0f && params.presence == 0.0f;
  if (off || params.repeat_last_n == 0) return {};
  size_t n_window = history.size();
  if (params.repeat_last_n > 0 && static_cast<size_t>(params.repeat_last_n) < n_window) {
    n_window = static_cast<size_t>(params.repeat_last_n);
  }
  const std::span<const int32_t> window = history.last(n_window);
  for (const int32_t id : window) {
    if (id < 0 || id >= n_vocab) {
      fail("Sampler::sample: history id ", id, " is outside the vocab [0, ", n_vocab, ")");
    }
  }
  return window;
}

void apply_penalties(std::span<float> logits, std::span<const int32_t> history,
                     const PenaltyParams& params, int64_t n_vocab, std::vector<int32_t>& counts) {
  // Checked up front (penalty_window) so a throw never leaves `counts` dirty.
  const std::span<const int32_t> window = penalty_window(history, params, n_vocab);
  const int64_t n_logits = static_cast<int64_t>(logits.size());
  for (const int32_t id : window) {
    if (id < n_logits) ++counts[id];
  }
  // Each id is penalised at its first occurrence in the window, which also
  // clears its count: clearing only what was set keeps this O(window), not O(n_vocab).
  for (const int32_t id : window) {
    if (id >= n_logits || counts[id] == 0) continue;
    float& logit = logits[id];
    if (params.repetition != 1.0f) {
      logit = logit > 0.0f ? logit / params.repetition : logit * params.repetition;
    }
    logit = sanitize_logit(
        logit - std::fma(static_cast<float>(counts[id]), params.frequency, params.presence));
    counts[id] = 0;
  }
}

}  // namespace bit_ttt
