#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "bit_ttt/config.h"
#include "bit_ttt/model.h"

namespace bit_ttt::testing {

// A small config that still exercises every shape (D≠I≠d, several layers).
inline BitLlamaConfig tiny_config(ActivationQuant mode = ActivationQuant::none) {
  BitLlamaConfig config;
  config.vocab_size = 97;
  config.hidden_dim = 32;
  config.num_layers = 3;
  config.inner_lr = 0.5f;  // large η so the memory matters visibly
  config.intermediate_dim = 48;
  config.ttt_dim = 8;
  config.activation_quant = mode;
  config.finalize();
  return config;
}

// Largest |a-b| relative to the largest |b|.
inline double max_relative_error(const float* a, const double* b, size_t n) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < n; ++i) {
    max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
    max_ref = std::max(max_ref, std::fabs(b[i]));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

}  // namespace bit_ttt::testing
