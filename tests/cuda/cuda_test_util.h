// Helpers of the CPU == CUDA parity tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/backend.h"

// Skips the test, with the reason, where CUDA cannot run (no GPU, no driver,
// a build without the CUDA backend).
#define SKIP_WITHOUT_GPU()                                                           \
  do {                                                                               \
    if (!::bit_ttt::device_available(::bit_ttt::Device::cuda))                       \
      GTEST_SKIP() << "no CUDA device: "                                             \
                   << ::bit_ttt::device_unavailable_reason(::bit_ttt::Device::cuda); \
  } while (0)

namespace bit_ttt::testing {

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
