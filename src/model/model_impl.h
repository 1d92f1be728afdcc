#pragma once

#include "bit_ttt/model.h"
#include "model/weights.h"

namespace bit_ttt {

struct BitLlama::Impl {
  ModelWeights weights;
};

// The forward pass of spec §3 over a chunk of tokens (forward.cc).
void forward_tokens(const ModelWeights& weights, std::span<const int32_t> tokens, TttState& state,
                    std::span<float> logits, LogitsMode mode);

}  // namespace bit_ttt
