// Helpers of the CPU == CUDA parity tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "bit_ttt/config.h"

// Skips the test, with the reason, where CUDA cannot run (no GPU, no driver,
// a build without the CUDA backend).
#define SKIP_WITHOUT_GPU()                                                           \
  do {                                                                               \
    if (!::bit_ttt::device_available(::bit_ttt::Device::cuda))                       \
      GTEST_SKIP() << "no CUDA device: "                                             \
                   << ::bit_ttt::device_unavailable_reason(::bit_ttt::Device::cuda); \
  } while (0)

namespace bit_ttt::testing {

// The model of the whole-model parity tests (inference and training): shapes that
// exercise the kernels' edges (D not a multiple of 256, d = 40 > 32 lanes and not a
// multiple of the warp, V = 300 not a multiple of a block).
inline BitLlamaConfig parity_config(ActivationQuant mode) {
  BitLlamaConfig config;
  config.vocab_size = 300;
  config.hidden_dim = 96;
  config.num_layers = 3;
  config.intermediate_dim = 160;
  config.ttt_dim = 40;
  config.inner_lr = 0.5f;
  config.activation_quant = mode;
  config.finalize();
  return config;
}

// max |got − want| / max |want| (infinity when `got` is not finite).
inline double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(got[i]) - want[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(want[i])));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

}  // namespace bit_ttt::testing
