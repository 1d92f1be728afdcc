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

// Device of every block (size N): all CPU, or the first n_gpu_layers on CUDA.
// Without n_gpu_layers (here or in config.json) the count is planned from the
// GPU's free memory (placement.cc), and everything stays on the CPU, with a
// warning, when there is no usable GPU.
struct PlacementRequest {
  Device device = Device::cpu;
  std::optional<int64_t> n_gpu_layers;   // explicit count; overrides config.json
  std::optional<int64_t> gpu_mem_limit;  // bytes the plan may use (simulates a small card)
  DenseDType embed_dtype = DenseDType::f32;
  DenseDType head_dtype = DenseDType::f32;
};
std::vector<Device> plan_block_devices(const BitLlamaConfig& config,
                                       const PlacementRequest& request);

// Rows of a prompt chunk in the forward pass: bounds scratch memory (logits
// [rows, V] dominate) while keeping the matmuls batched enough to reuse each
// weight row from cache.
inline constexpr int64_t kMaxChunkRows = 256;

// GPU bytes of each part of a model, for the automatic plan.
struct GpuPlacementCosts {
  int64_t per_block = 0;  // packed ternary weights, norms and one session's TTT state
  int64_t embed = 0;      // on the GPU when block 0 is
  int64_t head = 0;       // norm_f + LM head, on the GPU when every block is
  int64_t workspace = 0;  // activations of one prefill chunk (+ logits when the head is)
  int64_t logits = 0;     // the logits part of the workspace
  int64_t reserve = 0;    // cuBLAS workspace and allocation slack
};
GpuPlacementCosts gpu_placement_costs(const BitLlamaConfig& config, DenseDType embed_dtype,
                                      DenseDType head_dtype);
// The most blocks (0..num_layers) whose bytes fit `budget`.
int64_t plan_gpu_layers(const BitLlamaConfig& config, const GpuPlacementCosts& costs,
                        int64_t budget);
// Bytes the GPU holds for the first n blocks (what plan_gpu_layers compares).
int64_t gpu_bytes_for_layers(const BitLlamaConfig& config, const GpuPlacementCosts& costs,
                             int64_t n);

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
