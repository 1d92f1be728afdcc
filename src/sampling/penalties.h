// The penalties for tokens already seen, over one window of the history:
// the CTRL-style repetition penalty (as in llama.cpp and HF transformers) and
// OpenAI's frequency and presence penalties (as in the OpenAI API and llama.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "bit_ttt/sampler.h"

namespace bit_ttt {

struct PenaltyParams {
  float repetition = 1.0f;  // 1 = off
  float frequency = 0.0f;   // 0 = off
  float presence = 0.0f;    // 0 = off
  int repeat_last_n = 64;   // history entries looked at; -1 = all, 0 = none
};

// NaN would poison every comparison and sum after it, so it becomes "never";
// +inf would make the softmax NaN, so it becomes the largest finite logit. For the
// sampler's input and again after a penalty (one below 1 can push a logit past
// FLT_MAX). Branch-free so the copy loop vectorises.
inline float sanitize_logit(float logit) {
  return std::isnan(logit) ? -std::numeric_limits<float>::infinity()
                           : std::min(logit, std::numeric_limits<float>::max());
}

inline PenaltyParams penalty_params(const SamplingParams& p) {
  return {p.repetition_penalty, p.frequency_penalty, p.presence_penalty, p.repeat_last_n};
}

// The history entries the penalties look at: the last repeat_last_n (all for -1),
// none when every penalty is off. Throws bit_ttt::Error when one of them is not in
// [0, n_vocab).
std::span<const int32_t> penalty_window(std::span<const int32_t> history,
                                        const PenaltyParams& params, int64_t n_vocab);

// For every id in the last `repeat_last_n` entries of `history`, seen c >= 1
// times there, in this order:
//   logit = logit > 0 ? logit / repetition : logit * repetition   (once per id)
//   logit -= fma(c, frequency, presence)   (one rounding, as on the GPU)
// Only logits.size() ids are touched (ids past that are allowed in history but
// have nothing to penalise). Every history id looked at must lie in
// [0, n_vocab). `counts` is scratch of size >= logits.size(), all zero on
// entry and on return.
void apply_penalties(std::span<float> logits, std::span<const int32_t> history,
                     const PenaltyParams& params, int64_t n_vocab, std::vector<int32_t>& counts);

}  // namespace bit_ttt
