#include "train/params.h"

#include <span>
#include <unordered_set>

#include "bit_ttt/error.h"
#include "core/log.h"
#include "io/safetensors.h"
#include "model/weights.h"

namespace bit_ttt {

ModelParams ModelParams::zeros(const BitLlamaConfig& config) {
  ModelParams params;
  params.config = config;
  params.config.finalize("config");
  size_t offset = 0;
  for (const TensorSpec& spec : model_tensor_specs(params.config)) {
    size_t count = 1;
    for (int64_t extent : spec.shape) count *= static_cast<size_t>(extent);
    params.entries.push_back({spec.name, spec.shape, offset, count, spec.shape.size() == 2});
    offset += count;
  }
  params.values.assign(offset, 0.0f);
  return params;
}

ModelParams ModelParams::load(const std::filesystem::path& path) {
  const ModelFiles files = resolve_model_files(path);
  const std::filesystem::path& config_path = files.config;
  const std::filesystem::path& weights_path = files.weights;

  BitLlamaConfig config = BitLlamaConfig::load(config_path);
  config.finalize(config_path.string());
  ModelParams params = zeros(config);
  const SafetensorsReader reader = SafetensorsReader::open(weights_path);

  std::unordered_set<std::string> expected;
  for (const ParamEntry& entry : params.entries) expected.insert(entry.name);
  std::string extra;
  size_t n_extra = 0;
  for (const SafetensorsTensor& tensor : reader.tensors()) {
    if (expected.count(tensor.name)) continue;
    if (n_extra < 8) extra += (n_extra ? ", " : "") + tensor.name;
    ++n_extra;
  }
  if (n_extra > 0)
    log_warning(weights_path.string(), ": ignoring tensors not in the model spec: ", extra,
                n_extra > 8 ? concat(", ... (", n_extra, " in all)") : std::string());

  for (const ParamEntry& entry : params.entries) {
    // load_f32 checks the shape and converts F16/BF16, naming the tensor on error.
    const F32Data data = reader.load_f32(entry.name, entry.shape);
    std::copy(data.data, data.data + data.count, params.values.begin() + entry.offset);
  }
  return params;
}

void ModelParams::save_safetensors(const std::filesystem::path& path,
                                   const std::map<std::string, std::string>& metadata) const {
  std::vector<SafetensorsTensorToWrite> tensors;
  tensors.reserve(entries.size());
  for (const ParamEntry& entry : entries) {
    const std::span<const float> values_of(values.data() + entry.offset, entry.count);
    tensors.push_back({entry.name, DType::f32, entry.shape, std::as_bytes(values_of)});
  }
  write_safetensors(path, tensors, metadata);
}

const ParamEntry& ModelParams::entry(std::string_view name) const {
  for (const ParamEntry& e : entries)
    if (e.name == name) return e;
  fail("model parameters have no tensor '", name, "' (model ", config.shape_string(), ")");
}

float* ModelParams::tensor(std::string_view name) {
  return values.data() + entry(name).offset;
}
const float* ModelParams::tensor(std::string_view name) const {
  return values.data() + entry(name).offset;
}

}  // namespace bit_ttt
