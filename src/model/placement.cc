// Which blocks live on the GPU (MODEL_SPEC's blocks 0..N-1, the rest on the CPU):
// an explicit n_gpu_layers, or a plan from the GPU's free memory that prints what
// each part costs and what fits, and falls back to the CPU instead of failing
// (when nothing fits, or, with "auto" named, when there is no GPU).
#include <algorithm>

#include "bit_ttt/error.h"
#include "bit_ttt/model.h"
#include "core/log.h"
#include "model/weights.h"

namespace bit_ttt {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

int64_t i2_bytes(int64_t n_out, int64_t n_in) {
  return n_out * ternary_row_stride_bytes(TernaryFormat::i2, n_in);
}

int64_t dense_bytes(DenseDType dtype, int64_t n_out, int64_t n_in) {
  return n_out * n_in * static_cast<int64_t>(dense_element_bytes(dtype)) +
         (dtype == DenseDType::i8_row ? n_out * 4 : 0);
}

std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / kMiB);
  return text;
}

}  // namespace

GpuPlacementCosts gpu_placement_costs(const BitLlamaConfig& c, DenseDType embed_dtype,
                                      DenseDType head_dtype) {
  const int64_t V = c.vocab_size, D = c.hidden_dim, I = c.intermediate_dim, d = c.ttt_dim;
  GpuPlacementCosts costs;
  costs.per_block =
      i2_bytes(d, D) + i2_bytes(D, d) + 2 * i2_bytes(I, D) + i2_bytes(D, I) + 2 * D * 4 + d * d * 4;
  costs.embed = dense_bytes(embed_dtype, V, D);
  costs.head = D * 4 + dense_bytes(head_dtype, V, D);
  const int64_t rows = kMaxChunkRows;
  const int64_t widest = std::max({D, I, d}) + 256;  // quantized activations, padded rows
  costs.workspace = rows * (3 * D + 2 * d + 3 * I) * 4 + rows * widest + rows * D * 2;
  costs.logits = rows * V * 4;
  costs.reserve = 64 * static_cast<int64_t>(kMiB);
  return costs;
}

int64_t gpu_bytes_for_layers(const BitLlamaConfig& config, const GpuPlacementCosts& costs,
                             int64_t n) {
  if (n <= 0) return 0;
  int64_t bytes = costs.embed + n * costs.per_block + costs.workspace + costs.reserve;
  if (n == config.num_layers) bytes += costs.head + costs.logits;
  return bytes;
}

int64_t plan_gpu_layers(const BitLlamaConfig& config, const GpuPlacementCosts& costs,
                        int64_t budget) {
  int64_t n = config.num_layers;
  while (n > 0 && gpu_bytes_for_layers(config, costs, n) > budget) --n;
  return n;
}

std::vector<Device> plan_block_devices(const BitLlamaConfig& config,
                                       const PlacementRequest& request) {
  std::vector<Device> devices(static_cast<size_t>(config.num_layers), Device::cpu);
  if (request.gpu_mem_limit && *request.gpu_mem_limit < 0)
    fail("gpu_mem_limit must be >= 0 bytes, got ", *request.gpu_mem_limit);
  if (request.device == Device::cpu) {
    if (request.n_gpu_layers && *request.n_gpu_layers > 0)
      fail("n_gpu_layers = ", *request.n_gpu_layers, " needs device cuda (device is cpu)");
    return devices;
  }
  // Asked for "auto" by name: no GPU means the CPU (with a warning). Only
  // device cuda: no GPU is an error, as the user asked for one.
  const bool auto_by_name = request.n_gpu_layers == kAutoGpuLayers;
  std::optional<int64_t> explicit_count =
      request.n_gpu_layers ? request.n_gpu_layers : config.n_gpu_layers;
  if (auto_by_name) explicit_count.reset();
  int64_t n_gpu = 0;
  if (explicit_count) {
    n_gpu = *explicit_count;
    if (n_gpu < 0 || n_gpu > config.num_layers)
      fail("n_gpu_layers must be in [0, ", config.num_layers, "], got ", n_gpu);
    // Fails with the reason (no GPU, old driver) when a block is asked for.
    if (n_gpu > 0 && !device_available(request.device))
      fail("n_gpu_layers = ", n_gpu, " needs a GPU: ", device_unavailable_reason(request.device));
  } else {
    const std::optional<DeviceMemoryInfo> memory = device_memory_info(request.device);
    if (!memory && !auto_by_name)
      fail("device 'cuda' is not available: ", device_unavailable_reason(request.device),
           " (use --device cpu, or --n-gpu-layers auto to fall back to the CPU)");
    if (!memory) {
      log_warning("no usable GPU (", device_unavailable_reason(request.device),
                  "): running every block on the CPU");
      return devices;
    }
    const GpuPlacementCosts costs =
        gpu_placement_costs(config, request.embed_dtype, request.head_dtype);
    int64_t budget = memory->free_bytes;
    if (request.gpu_mem_limit) budget = std::min(budget, *request.gpu_mem_limit);
    n_gpu = plan_gpu_layers(config, costs, budget);
    log_info("GPU plan: budget ", mib(budget), " (free ", mib(memory->free_bytes), " of ",
             mib(memory->total_bytes),
             request.gpu_mem_limit ? concat(", limit ", mib(*request.gpu_mem_limit)) : "",
             "); per block ", mib(costs.per_block), ", embedding ", mib(costs.embed), ", head ",
             mib(costs.head), ", workspace ", mib(costs.workspace), " (+ logits ",
             mib(costs.logits), " with the head), reserve ", mib(costs.reserve));
    log_info("GPU plan: n_gpu_layers = ", n_gpu, " of ", config.num_layers, " (",
             mib(gpu_bytes_for_layers(config, costs, n_gpu)), " on the GPU)",
             n_gpu == config.num_layers ? ", head on the GPU"
             : n_gpu == 0               ? ": nothing fits, running on the CPU"
                                        : ", the rest and the head on the CPU");
  }
  for (int64_t i = 0; i < n_gpu; ++i) devices[static_cast<size_t>(i)] = request.device;
  return devices;
}

}  // namespace bit_ttt
