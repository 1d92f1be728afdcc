// The latent full-precision parameters of a model, as the trainer sees them: every
// tensor of MODEL_SPEC.md §2 packed into ONE contiguous f32 buffer in
// model_tensor_specs order, so that the optimizer, gradient accumulation and
// clipping are loops over one array. A gradient buffer is a ModelParams of the
// same layout (ModelParams::zeros(config)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bit_ttt/config.h"

namespace bit_ttt {

struct ParamEntry {
  std::string name;
  std::vector<int64_t> shape;
  size_t offset = 0;       // first value in ModelParams::values
  size_t count = 0;        // product of shape
  bool is_matrix = false;  // 2-D: weight decay applies (norm weights are exempt)
};

struct ModelParams {
  BitLlamaConfig config;  // finalized
  std::vector<ParamEntry> entries;
  std::vector<float> values;

  // The layout of `config` with every value 0 (a gradient buffer).
  static ModelParams zeros(const BitLlamaConfig& config);
  // A model directory (config.json + model.safetensors) or a .safetensors file with
  // config.json next to it. F32, F16 and BF16 tensors are accepted; a missing tensor
  // or a wrong shape is an error naming the tensor; extra tensors are a warning.
  static ModelParams load(const std::filesystem::path& model_dir_or_safetensors);
  // Writes every tensor as F32 in spec order (atomically); config.json is not written.
  void save_safetensors(const std::filesystem::path& path,
                        const std::map<std::string, std::string>& metadata = {}) const;

  // Error naming the tensor when `name` is not a parameter of this model.
  float* tensor(std::string_view name);
  const float* tensor(std::string_view name) const;
  const ParamEntry& entry(std::string_view name) const;
};

}  // namespace bit_ttt
