#include "model/device_sampling.h"

#include "bit_ttt/error.h"
#include "model/model_impl.h"
#include "model/state_impl.h"
#include "sampling/candidates.h"
#include "sampling/penalties.h"

namespace bit_ttt {
namespace {

// Row 0 of the head's logits scratch: where a LogitsMode::last forward left them.
Tensor kept_logits(const ModelWeights& weights, TttState& state) {
  Backend& head = *weights.head_backend;
  auto found = state.impl().scratch.find(head.device());
  if (found == state.impl().scratch.end() || found->second.logits.empty())
    fail("no logits on the ", device_name(head.device()), " to sample from (nothing was absorbed)");
  return found->second.logits.rows(0, 1);
}

}  // namespace

bool head_samples(const BitLlama& model) {
  return model.impl().weights.head_backend->can_sample();
}

void forward_keeping_logits(const BitLlama& model, std::span<const int32_t> tokens,
                            TttState& state) {
  forward_tokens(model.impl().weights, tokens, state, {}, LogitsMode::last,
                 /*keep_logits_on_device=*/true);
}

int32_t sample_on_device(const BitLlama& model, TttState& state, Sampler& sampler,
                         std::span<const int32_t> history, int32_t n_allowed) {
  const ModelWeights& weights = model.impl().weights;
  const int64_t n_vocab = weights.config.vocab_size;
  n_allowed = checked_n_allowed(static_cast<size_t>(n_vocab), n_allowed);
  const std::span<const int32_t> window =
      penalty_window(history, penalty_params(sampler.params()), n_vocab);
  const double uniform = sampler.next_uniform();
  const int32_t token = weights.head_backend->sample(kept_logits(weights, state), sampler.params(),
                                                     window, n_allowed, uniform);
  if (token < 0) fail_no_finite_logit(static_cast<size_t>(n_allowed));
  return token;
}

void download_kept_logits(const BitLlama& model, TttState& state, std::span<float> logits) {
  const ModelWeights& weights = model.impl().weights;
  BT_CHECK(static_cast<int64_t>(logits.size()) == weights.config.vocab_size);
  weights.head_backend->download(kept_logits(weights, state), logits.data());
}

}  // namespace bit_ttt
