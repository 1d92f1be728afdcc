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
  int64_t step = 0;               // updates done so far
  std::vector<float> exp_avg;     // m, same layout as ModelParams::values
  std::vector<float> exp_avg_sq;  // v
};

AdamWState make_adamw_state(const ModelParams& params);

// The float constants of update number `step` (1-based), shared by the CPU and
// CUDA optimizers so both compute the same update:
//   m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²
//   p −= decay·p + step_size · m / (√v · inv_sqrt_bias2 + eps)
// with decay = lr·weight_decay for matrices and 0 for norm weights.
struct AdamWStepConstants {
  float beta1, beta2, step_size, inv_sqrt_bias2, eps, matrix_decay;
};
AdamWStepConstants adamw_step_constants(const AdamWConfig& config, int64_t step, double lr);

// One update with learning rate `lr`; grads has the layout of params.
void adamw_step(ModelParams& params, const ModelParams& grads, AdamWState& state,
                const AdamWConfig& config, double lr);

// Global L2 norm of all gradients (double accumulation).
double gradient_norm(const ModelParams& grads);
// The factor that brings a gradient of global norm `norm` to at most max_norm
// (max_norm ≤ 0: no clipping); 1 when none is needed.
float clip_factor(double norm, double max_norm);
// Scales grads so their global norm is at most max_norm; returns the norm before.
double clip_gradients(ModelParams& grads, double max_norm);

}  // namespace bit_ttt
