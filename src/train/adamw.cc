#include "train/adamw.h"

#include <cmath>

#include "core/check.h"
#include "core/thread_pool.h"

namespace bit_ttt {

AdamWState make_adamw_state(const ModelParams& params) {
  AdamWState state;
  state.exp_avg.assign(params.values.size(), 0.0f);
  state.exp_avg_sq.assign(params.values.size(), 0.0f);
  return state;
}

AdamWStepConstants adamw_step_constants(const AdamWConfig& config, int64_t step, double lr) {
  const double bias1 = 1.0 - std::pow(config.beta1, static_cast<double>(step));
  const double bias2 = 1.0 - std::pow(config.beta2, static_cast<double>(step));
  return {static_cast<float>(config.beta1), static_cast<float>(config.beta2),
          static_cast<float>(lr / bias1),   static_cast<float>(1.0 / std::sqrt(bias2)),
          static_cast<float>(config.eps),   static_cast<float>(lr * config.weight_decay)};
}

void adamw_step(ModelParams& params, const ModelParams& grads, AdamWState& state,
                const AdamWConfig& config, double lr) {
  BT_CHECK(grads.values.size() == params.values.size());
  BT_CHECK(state.exp_avg.size() == params.values.size());
  ++state.step;
  const AdamWStepConstants k = adamw_step_constants(config, state.step, lr);
  for (const ParamEntry& entry : params.entries) {
    const float decay = entry.is_matrix ? k.matrix_decay : 0.0f;
    float* p = params.values.data() + entry.offset;
    const float* g = grads.values.data() + entry.offset;
    float* m = state.exp_avg.data() + entry.offset;
    float* v = state.exp_avg_sq.data() + entry.offset;
    // Elementwise, so the split over threads cannot change any result.
    default_thread_pool().parallel_for(
        static_cast<int64_t>(entry.count), 4096, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            m[i] = k.beta1 * m[i] + (1.0f - k.beta1) * g[i];
            v[i] = k.beta2 * v[i] + (1.0f - k.beta2) * g[i] * g[i];
            const float denominator = std::sqrt(v[i]) * k.inv_sqrt_bias2 + k.eps;
            p[i] -= decay * p[i] + k.step_size * m[i] / denominator;
          }
        });
  }
}

double gradient_norm(const ModelParams& grads) {
  double sum = 0.0;
  for (float g : grads.values) sum += static_cast<double>(g) * g;
  return std::sqrt(sum);
}

float clip_factor(double norm, double max_norm) {
  return max_norm > 0 && norm > max_norm ? static_cast<float>(max_norm / (norm + 1e-6)) : 1.0f;
}

double clip_gradients(ModelParams& grads, double max_norm) {
  const double norm = gradient_norm(grads);
  const float factor = clip_factor(norm, max_norm);
  if (factor != 1.0f)
    for (float& g : grads.values) g *= factor;
  return norm;
}

}  // namespace bit_ttt
