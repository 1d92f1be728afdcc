// An independent, deliberately plain double-precision implementation of
// MODEL_SPEC.md §3 (per-token recurrence, no batching, no shared kernels), used as
// the oracle for the engine's forward pass.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bit_ttt/config.h"

namespace bit_ttt::testing {

struct ReferenceModel {
  BitLlamaConfig config;
  std::map<std::string, std::vector<double>> tensors;  // latent weights, row-major

  static ReferenceModel load(const std::filesystem::path& model_dir);

  // Logits [T][V] for tokens fed one at a time from S_0 = 0; final states [N][d*d].
  std::vector<std::vector<double>> forward(const std::vector<int32_t>& tokens,
                                           std::vector<std::vector<double>>* final_states) const;
};

}  // namespace bit_ttt::testing
