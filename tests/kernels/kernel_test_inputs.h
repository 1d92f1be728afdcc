// Deterministic inputs of the kernel tests, shared by the reference, CPU and
// dense/ternary kernel suites.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "core/tensor.h"

namespace bit_ttt::testing {

// n normal(0, sigma) floats.
inline std::vector<float> random_floats(int64_t n, uint64_t seed, float sigma = 1.0f) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = normal(engine);
  return values;
}

// A CPU f32 tensor of normal(0, sigma) values (random_floats in row-major order).
inline Tensor random_tensor(std::vector<int64_t> shape, uint64_t seed, float sigma = 1.0f) {
  Tensor t = Tensor::zeros_cpu(DType::f32, std::move(shape));
  const std::vector<float> values = random_floats(t.numel(), seed, sigma);
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

// n codes uniform in {-1, 0, +1}.
inline std::vector<int8_t> random_codes(int64_t n, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<int8_t> codes(static_cast<size_t>(n));
  for (int8_t& c : codes) c = static_cast<int8_t>(static_cast<int>(engine() % 3) - 1);
  return codes;
}

// Int8 activations [n_rows, n_in] over the full range, with -128 and 127 in every
// row; every third row all -128 and every fourth all 127 (the extremes of the
// kernels' sign tricks and of their sums).
inline std::vector<int8_t> random_xq(int64_t n_rows, int64_t n_in, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<int8_t> x(static_cast<size_t>(n_rows * n_in));
  for (auto& v : x) v = static_cast<int8_t>(static_cast<int>(engine() % 256) - 128);
  for (int64_t r = 0; r < n_rows && n_in > 0; ++r) {
    x[r * n_in] = -128;
    x[r * n_in + (n_in - 1) / 2] = 127;
    for (int64_t i = 0; i < n_in; ++i) {
      if (r % 3 == 1) x[r * n_in + i] = -128;
      if (r % 4 == 2) x[r * n_in + i] = 127;
    }
  }
  return x;
}

}  // namespace bit_ttt::testing
