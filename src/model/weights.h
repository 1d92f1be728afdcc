// The weights of a loaded model, placed on devices, in the form the forward pass
// uses (ternary codes + β for BitLinear, float for embedding, norms and head).
// Tensor names and shapes are MODEL_SPEC.md §2.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "bit_ttt/config.h"

namespace bit_ttt {

struct BlockWeights {
  Backend* backend = nullptr;  // the device this block lives on
  Tensor norm1, norm2;         // [D]
  TernaryWeight ttt_down;      // [d, D]
  TernaryWeight ttt_up;        // [D, d]
  TernaryWeight gate_proj;     // [I, D]
  TernaryWeight up_proj;       // [I, D]
  TernaryWeight down_proj;     // [D, I]
};

struct ModelWeights {
  BitLlamaConfig config;
  Backend* embed_backend = nullptr;
  DenseWeight embed;  // [V, D]
  std::vector<BlockWeights> blocks;
  Backend* head_backend = nullptr;
  Tensor norm_f;        // [D]
  DenseWeight lm_head;  // [V, D]
  std::string fingerprint;
};

// One entry per spec tensor: its name and expected shape for `config`.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<TensorSpec> model_tensor_specs(const BitLlamaConfig& config);

// The spec's random init (normal std 0.02, RMSNorm weights 1) of every tensor,
// laid out back to back in model_tensor_specs order. Deterministic per seed on
// every platform; write_random_model writes exactly these values.
void fill_random_init(const BitLlamaConfig& config, uint64_t seed, std::span<float> values);

// Device of every block (size N) from the options: all CPU, or the first
// n_gpu_layers on CUDA.
std::vector<Device> plan_block_devices(const BitLlamaConfig& config, Device device,
                                       std::optional<int64_t> n_gpu_layers);

// config.json and the weights file of a model directory, or of a .safetensors
// file with config.json beside it; clear errors when either is missing.
struct ModelFiles {
  std::filesystem::path config;
  std::filesystem::path weights;
};
ModelFiles resolve_model_files(const std::filesystem::path& path);

ModelWeights load_model_weights(const BitLlamaConfig& config,
                                const std::filesystem::path& weights_path,
                                const std::vector<Device>& block_devices);

}  // namespace bit_ttt
