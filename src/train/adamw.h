// AdamW (decoupled weight decay, Loshchilov & Hutter) over the flat parameter
// buffer of ModelParams; weight decay applies to matrices only (entries with
// is_matrix), not to RMSNorm weights.
#pragma once

#include <cstdint>
#include <vector>

#include "train/params.h"

namespace bit_ttt {

struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

struct AdamWState {
  int64_t step = 0;              // updates done so far
  std::vector<float> exp_avg;    // m, same layout as ModelParams::values
  std::vector<float> exp_avg_sq; // v
};

AdamWState make_adamw_state(const ModelParams& params);

// One update with learning rate `lr`; grads has the layout of params.
void adamw_step(ModelParams& params, const ModelParams& grads, AdamWState& state,
                const AdamWConfig& config, double lr);

// Global L2 norm of all gradients (double accumulation).
double gradient_norm(const ModelParams& grads);
// Scales grads so their global norm is at most max_norm; returns the norm before.
double clip_gradients(ModelParams& grads, double max_norm);

}  // namespace bit_ttt
