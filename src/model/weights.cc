#include "model/weights.h"

#include <unordered_set>

#include "bit_ttt/error.h"
#include "core/log.h"
#include "io/safetensors.h"

namespace bit_ttt {
namespace {

std::string block_name(int64_t layer, const char* suffix) {
  return concat("layers.", layer, ".", suffix);
}

// FNV-1a over the bytes, continuing from `hash`.
uint64_t fnv1a(const void* data, size_t n_bytes, uint64_t hash) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n_bytes; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}

}  // namespace

std::vector<TensorSpec> model_tensor_specs(const BitLlamaConfig& c) {
  const int64_t V = c.vocab_size, D = c.hidden_dim, I = c.intermediate_dim, d = c.ttt_dim;
  std::vector<TensorSpec> specs;
  specs.push_back({"embed.weight", {V, D}});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    specs.push_back({block_name(i, "norm1.weight"), {D}});
    specs.push_back({block_name(i, "ttt.down.weight"), {d, D}});
    specs.push_back({block_name(i, "ttt.up.weight"), {D, d}});
    specs.push_back({block_name(i, "norm2.weight"), {D}});
    specs.push_back({block_name(i, "mlp.gate_proj.weight"), {I, D}});
    specs.push_back({block_name(i, "mlp.up_proj.weight"), {I, D}});
    specs.push_back({block_name(i, "mlp.down_proj.weight"), {D, I}});
  }
  specs.push_back({"norm_f.weight", {D}});
  specs.push_back({"lm_head.weight", {V, D}});
  return specs;
}

ModelFiles resolve_model_files(const std::filesystem::path& path) {
  ModelFiles files;
  if (path.extension() == ".bitt")
    fail(path.string(),
         ": a .bitt file holds packed inference weights only; this needs the "
         "model directory (config.json + model.safetensors)");
  if (std::filesystem::is_directory(path)) {
    files.config = path / "config.json";
    files.weights = path / "model.safetensors";
  } else if (std::filesystem::exists(path)) {
    files.config = path.parent_path() / "config.json";
    files.weights = path;
  } else {
    fail(path.string(), ": no such model directory or file");
  }
  if (!std::filesystem::exists(files.config))
    fail(path.string(), ": missing config.json (expected ", files.config.string(), ")");
  if (!std::filesystem::exists(files.weights))
    fail(path.string(), ": missing weights file ", files.weights.string());
  return files;
}

ModelWeights load_model_weights(const BitLlamaConfig& config,
                                const std::filesystem::path& weights_path,
                                const std::vector<Device>& block_devices) {
  const SafetensorsReader reader = SafetensorsReader::open(weights_path);
  const std::vector<TensorSpec> specs = model_tensor_specs(config);

  std::unordered_set<std::string> expected;
  for (const TensorSpec& spec : specs) expected.insert(spec.name);
  std::vector<std::string> extra;
  for (const SafetensorsTensor& tensor : reader.tensors())
    if (!expected.count(tensor.name)) extra.push_back(tensor.name);
  if (!extra.empty()) {
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 8; ++i) list += (i ? ", " : "") + extra[i];
    if (extra.size() > 8) list += concat(", ... (", extra.size(), " in all)");
    log_warning(weights_path.string(), ": ignoring tensors not in the model spec: ", list);
  }

  // Fingerprint: shapes + config + the raw bytes of the small tensors and a
  // strided sample of the large ones (hashing 500 MB at load would not be instant).
  uint64_t hash = 0xcbf29ce484222325ull;
  const std::string shape = config.shape_string();
  hash = fnv1a(shape.data(), shape.size(), hash);

  auto load_host = [&](const TensorSpec& spec) {
    F32Data values = reader.load_f32(spec.name, spec.shape);
    const size_t n_bytes = values.count * sizeof(float);
    const size_t stride = std::max<size_t>(1, n_bytes / 65536);
    for (size_t offset = 0; offset < n_bytes; offset += stride * 64)
      hash = fnv1a(reinterpret_cast<const char*>(values.data) + offset,
                   std::min<size_t>(64, n_bytes - offset), hash);
    return Tensor(DType::f32, spec.shape, Device::cpu, const_cast<float*>(values.data),
                  std::move(values.owner));
  };

  ModelWeights weights;
  weights.config = config;
  size_t next = 0;
  BT_CHECK(block_devices.size() == static_cast<size_t>(config.num_layers));
  const Device first_device = block_devices.empty() ? Device::cpu : block_devices.front();
  const Device last_device = block_devices.empty() ? Device::cpu : block_devices.back();
  weights.embed_backend = &backend_for(first_device);
  weights.embed = weights.embed_backend->prepare_dense(load_host(specs[next++]), DenseDType::f32);
  for (int64_t i = 0; i < config.num_layers; ++i) {
    BlockWeights block;
    block.backend = &backend_for(block_devices[static_cast<size_t>(i)]);
    block.norm1 = block.backend->upload(load_host(specs[next++]));
    block.ttt_down = block.backend->prepare_ternary(load_host(specs[next++]));
    block.ttt_up = block.backend->prepare_ternary(load_host(specs[next++]));
    block.norm2 = block.backend->upload(load_host(specs[next++]));
    block.gate_proj = block.backend->prepare_ternary(load_host(specs[next++]));
    block.up_proj = block.backend->prepare_ternary(load_host(specs[next++]));
    block.down_proj = block.backend->prepare_ternary(load_host(specs[next++]));
    weights.blocks.push_back(std::move(block));
  }
  weights.head_backend = &backend_for(last_device);
  weights.norm_f = weights.head_backend->upload(load_host(specs[next++]));
  weights.lm_head = weights.head_backend->prepare_dense(load_host(specs[next++]), DenseDType::f32);

  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
  weights.fingerprint = text;
  return weights;
}

}  // namespace bit_ttt
