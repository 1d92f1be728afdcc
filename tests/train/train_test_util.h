// Helpers of the training tests: random data, finite differences, comparisons.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "bit_ttt/config.h"

namespace bit_ttt::testing {

// The gradient-check model: every dimension distinct and tiny, η large so the TTT
// recurrence carries real weight in the loss.
inline BitLlamaConfig grad_check_config(ActivationQuant mode = ActivationQuant::none) {
  BitLlamaConfig config;
  config.vocab_size = 23;
  config.hidden_dim = 8;
  config.num_layers = 2;
  config.inner_lr = 0.5f;
  config.intermediate_dim = 12;
  config.ttt_dim = 4;
  config.activation_quant = mode;
  config.finalize();
  return config;
}

inline std::vector<double> random_values(size_t n, double scale, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> values(n);
  for (double& v : values) v = scale * uniform(engine);
  return values;
}

inline std::vector<int32_t> random_tokens(size_t n, int32_t vocab, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<int32_t> tokens(n);
  for (int32_t& t : tokens) t = static_cast<int32_t>(engine() % static_cast<uint64_t>(vocab));
  return tokens;
}

// Central differences of loss() w.r.t. every element of x (restored afterwards).
inline std::vector<double> numeric_gradient(std::vector<double>& x,
                                            const std::function<double()>& loss,
                                            double step = 1e-5) {
  std::vector<double> gradient(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + step;
    const double plus = loss();
    x[i] = saved - step;
    const double minus = loss();
    x[i] = saved;
    gradient[i] = (plus - minus) / (2 * step);
  }
  return gradient;
}

// max |a − b| / max |b| (b the reference).
template <typename A>
double max_relative_difference(const std::vector<A>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    max_ref = std::max(max_ref, std::fabs(b[i]));
  }
  return max_diff / std::max(max_ref, 1e-300);
}

inline double dot_product(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace bit_ttt::testing
