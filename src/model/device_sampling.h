// Sampling on the LM head's device: when the head runs on a backend that samples (a
// GPU), a decode step leaves its logits there and only the chosen id comes back
// (Backend::sample) instead of V floats. generate() uses these; elsewhere the
// logits come to the host's Sampler.
#pragma once

#include <cstdint>
#include <span>

#include "bit_ttt/model.h"
#include "bit_ttt/sampler.h"

namespace bit_ttt {

// Whether the head's backend samples.
bool head_samples(const BitLlama& model);

// Feeds tokens like BitLlama::forward (LogitsMode::last), leaving the last
// position's logits on the head's device, in `state`'s scratch.
void forward_keeping_logits(const BitLlama& model, std::span<const int32_t> tokens,
                            TttState& state);

// sampler.sample() of those logits, made on the device with the sampler's own random
// stream: the same checks and errors, and the same choice (see kernels/cuda/sampling_cuda.cu).
int32_t sample_on_device(const BitLlama& model, TttState& state, Sampler& sampler,
                         std::span<const int32_t> history, int32_t n_allowed);

// Copies those logits to the host (V floats).
void download_kept_logits(const BitLlama& model, TttState& state, std::span<float> logits);

}  // namespace bit_ttt
