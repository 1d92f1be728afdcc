// Learning-rate schedule: linear warmup to the peak, then cosine decay to min_lr
// at the last step (the seed's "cosine LR schedule").
#pragma once

#include <cstdint>

namespace bit_ttt {

struct LrSchedule {
  double peak_lr = 3e-4;
  double min_lr = 1e-5;
  int64_t warmup_steps = 100;
  int64_t total_steps = 1000;

  // Learning rate of optimizer step `step` (0-based).
  double at(int64_t step) const;
};

}  // namespace bit_ttt
