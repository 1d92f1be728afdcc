#include "sampling/repetition_penalty.h"

#include "bit_ttt/error.h"

namespace bit_ttt {

void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history,
                              int repeat_last_n, float penalty, int64_t n_vocab,
                              std::vector<uint8_t>& seen) {
  if (penalty == 1.0f || repeat_last_n == 0 || history.empty()) return;
  size_t n_window = history.size();
  if (repeat_last_n > 0 && static_cast<size_t>(repeat_last_n) < n_window) {
    n_window = static_cast<size_t>(repeat_last_n);
  }
  const std::span<const int32_t> window = history.last(n_window);
  // Checked up front so a throw never leaves `seen` dirty for the next call.
  for (const int32_t id : window) {
    if (id < 0 || id >= n_vocab) {
      fail("Sampler::sample: history id ", id, " is outside the vocab [0, ", n_vocab, ")");
    }
  }
  const int64_t n_logits = static_cast<int64_t>(logits.size());
  for (const int32_t id : window) {
    if (id >= n_logits || seen[id]) continue;
    seen[id] = 1;
    float& logit = logits[id];
    logit = logit > 0.0f ? logit / penalty : logit * penalty;
  }
  // Clearing only what was set keeps this O(window), not O(n_vocab).
  for (const int32_t id : window) {
    if (id < n_logits) seen[id] = 0;
  }
}

}  // namespace bit_ttt
