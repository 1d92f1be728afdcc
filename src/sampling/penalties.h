// The penalties for tokens already seen, over one window of the history:
// the CTRL-style repetition penalty (as in llama.cpp and HF transformers) and
// OpenAI's frequency and presence penalties (as in the OpenAI API and llama.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bit_ttt {

struct PenaltyParams {
  float repetition = 1.0f;  // 1 = off
  float frequency = 0.0f;   // 0 = off
  float presence = 0.0f;    // 0 = off
  int repeat_last_n = 64;   // history entries looked at; -1 = all, 0 = none
};

// For every id in the last `repeat_last_n` entries of `history`, seen c >= 1
// times there, in this order:
//   logit = logit > 0 ? logit / repetition : logit * repetition   (once per id)
//   logit -= c * frequency + presence
// Only logits.size() ids are touched (ids past that are allowed in history but
// have nothing to penalise). Every history id looked at must lie in
// [0, n_vocab). `counts` is scratch of size >= logits.size(), all zero on
// entry and on return.
void apply_penalties(std::span<float> logits, std::span<const int32_t> history,
                     const PenaltyParams& params, int64_t n_vocab, std::vector<int32_t>& counts);

}  // namespace bit_ttt
