// Choosing the next token from a position's logits, and holding back streamed
// text that may turn into a stop string.
//
// Sampler::sample runs one fixed pipeline:
//   1. penalties            (ids in the last repeat_last_n history entries: repetition
//                            once per id, then frequency x count + presence subtracted)
//   2. greedy               (temperature <= 0: argmax, lowest id on ties; stops here)
//   3. temperature          (logits / temperature)
//   4. top-k                (keep the k highest logits; ties go to the lower id)
//   5. softmax
//   6. top-p                (keep the smallest best-first set whose mass reaches top_p)
//   7. min-p                (keep tokens with p >= min_p * p_max)
//   8. renormalise and draw (one uniform double from the sampler's mt19937_64),
//                            walking the kept ids in ascending order
// NaN logits count as -inf (never chosen); +inf logits count as the largest
// float. Ids >= n_allowed are never chosen.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bit_ttt {

struct SamplingParams {
  float temperature = 0.8f;         // <= 0 means greedy (argmax, lowest id on ties); finite
  int top_k = 0;                    // >= 0; 0 = off
  float top_p = 1.0f;               // nucleus, in (0, 1]; 1 = off
  float min_p = 0.0f;               // in [0, 1]; keep tokens with p >= min_p * p_max; 0 = off
  float repetition_penalty = 1.0f;  // > 0; CTRL-style: logit > 0 ? logit / pen : logit * pen
  float frequency_penalty = 0.0f;   // finite; OpenAI: logit -= count * frequency_penalty; 0 = off
  float presence_penalty = 0.0f;    // finite; OpenAI: logit -= presence_penalty if seen; 0 = off
  int repeat_last_n = 64;           // history entries the penalties look at; -1 = all, 0 = none
  uint64_t seed = 0;                // same seed + same logits => same choices

  // Throws bit_ttt::Error naming the first bad field and its valid range.
  void validate() const;
};

// A token still in the running inside Sampler::sample. Public only so the
// scratch buffer can live in Sampler; not part of the API.
struct TokenCandidate {
  int32_t id;
  float logit;
  double weight;  // unnormalised probability, exp((logit - max_logit) / temperature)
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params);  // validates params

  // logits: one position, size n_vocab. history: ids seen so far (prompt and
  // generated), each in [0, n_vocab), for the penalties. n_allowed:
  // only ids < n_allowed can be chosen (the tokenizer's vocab may be smaller
  // than the model's); -1 = n_vocab. Throws bit_ttt::Error on bad arguments and
  // when no allowed logit is finite. Allocates only when n_vocab grows.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history,
                 int32_t n_allowed = -1);

  // For a device that runs this pipeline on logits it holds (the CUDA backend):
  // the random number sample() would draw now (0 for greedy, which draws none), so
  // the stream stays the CPU's.
  double next_uniform();

  // Restarts the random stream as if constructed with this seed.
  void reseed(uint64_t seed);
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  // Scratch reused across calls so a call allocates nothing once warm.
  std::vector<float> logits_;
  std::vector<TokenCandidate> candidates_;
  std::vector<int32_t> penalty_counts_;
};

// Holds back generated text that might be the start of a stop string, so a
// stop string is never emitted. Matching is on bytes, so a stop string split
// anywhere across pushes, even inside a UTF-8 character, is still found; text
// is only ever cut where a stop string (or its possible start) begins.
class StopStringMatcher {
 public:
  // Each stop string must be non-empty. No stop strings: everything passes.
  explicit StopStringMatcher(std::vector<std::string> stop_strings);

  // Feeds newly generated text; returns the text that is safe to emit now.
  // When a stop string appears, stopped() turns true, the text before it is
  // returned and everything from the stop string on is dropped, including
  // anything pushed later.
  std::string push(std::string_view text);
  // At the end of generation: whatever was held back (nothing once stopped).
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stop_strings_;
  std::string pending_;  // pushed but not yet emitted; always a possible stop-string start
  bool stopped_ = false;
};

}  // namespace bit_ttt
