// SamplingParams::validate: reject settings the pipeline cannot give a meaning to.
#include <cmath>

#include "bit_ttt/error.h"
#include "bit_ttt/sampler.h"

namespace bit_ttt {

void SamplingParams::validate() const {
  // Negative temperature is accepted as "greedy"; NaN and inf have no meaning.
  if (!std::isfinite(temperature)) {
    fail("SamplingParams.temperature must be a finite number (<= 0 means greedy), got ",
         temperature);
  }
  if (top_k < 0) fail("SamplingParams.top_k must be >= 0 (0 = off), got ", top_k);
  // Written as !(in range) so NaN fails too.
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    fail("SamplingParams.top_p must be in (0, 1] (1 = off), got ", top_p);
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    fail("SamplingParams.min_p must be in [0, 1] (0 = off), got ", min_p);
  }
  if (!(repetition_penalty > 0.0f && std::isfinite(repetition_penalty))) {
    fail("SamplingParams.repetition_penalty must be a finite number > 0 (1 = off), got ",
         repetition_penalty);
  }
  if (!std::isfinite(frequency_penalty)) {
    fail("SamplingParams.frequency_penalty must be a finite number (0 = off), got ",
         frequency_penalty);
  }
  if (!std::isfinite(presence_penalty)) {
    fail("SamplingParams.presence_penalty must be a finite number (0 = off), got ",
         presence_penalty);
  }
  if (repeat_last_n < -1) {
    fail("SamplingParams.repeat_last_n must be >= -1 (-1 = all history, 0 = none), got ",
         repeat_last_n);
  }
}

}  // namespace bit_ttt
