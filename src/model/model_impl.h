#pragma once

#include "bit_ttt/model.h"
#include "model/weights.h"

namespace bit_ttt {

struct BitLlama::Impl {
  ModelWeights weights;
};

// The forward pass of spec §3 over a chunk of tokens (forward.cc). With
// keep_logits_on_device (LogitsMode::last only) the last position's logits stay in
// the head's scratch of `state` (see device_sampling.h) and `logits` is not used.
void forward_tokens(const ModelWeights& weights, std::span<const int32_t> tokens, TttState& state,
                    std::span<float> logits, LogitsMode mode, bool keep_logits_on_device = false);

}  // namespace bit_ttt
