// Random initialisation of a model directory (bit_llama init): every matrix
// ~ Normal(0, 0.02), RMSNorm weights 1. Uses its own Box–Muller over
// mt19937_64 bits so the same seed gives the same weights on every platform
// (std::normal_distribution is implementation-defined).
#include <cmath>
#include <random>

#include "bit_ttt/error.h"
#include "bit_ttt/model.h"
#include "io/safetensors.h"
#include "model/weights.h"

namespace bit_ttt {
namespace {

constexpr double kInitStd = 0.02;

class NormalGenerator {
 public:
  explicit NormalGenerator(uint64_t seed) : engine_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // Uniforms in (0, 1] from the top 53 bits.
    const double u1 = (static_cast<double>(engine_() >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = static_cast<double>(engine_() >> 11) * 0x1.0p-53;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * 3.14159265358979323846 * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

bool is_norm_weight(const std::string& name) {
  return name.find("norm") != std::string::npos;
}

}  // namespace

void fill_random_init(const BitLlamaConfig& config, uint64_t seed, std::span<float> values) {
  NormalGenerator normal(seed);
  size_t offset = 0;
  for (const TensorSpec& spec : model_tensor_specs(config)) {
    size_t count = 1;
    for (int64_t extent : spec.shape) count *= static_cast<size_t>(extent);
    if (offset + count > values.size())
      fail("fill_random_init: buffer of ", values.size(), " floats is too small for the model");
    std::span<float> tensor = values.subspan(offset, count);
    if (is_norm_weight(spec.name)) {
      std::fill(tensor.begin(), tensor.end(), 1.0f);
    } else {
      for (float& value : tensor) value = static_cast<float>(kInitStd * normal.next());
    }
    offset += count;
  }
  if (offset != values.size())
    fail("fill_random_init: buffer holds ", values.size(), " floats, the model has ", offset);
}

void write_random_model(const BitLlamaConfig& config, uint64_t seed,
                        const std::filesystem::path& directory) {
  BitLlamaConfig checked = config;
  checked.finalize("config");
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) fail(directory.string(), ": cannot create model directory: ", error.message());

  const std::vector<TensorSpec> specs = model_tensor_specs(checked);
  size_t n_values = 0;
  for (const TensorSpec& spec : specs) {
    size_t count = 1;
    for (int64_t extent : spec.shape) count *= static_cast<size_t>(extent);
    n_values += count;
  }
  std::vector<float> values(n_values);
  fill_random_init(checked, seed, values);
  std::vector<SafetensorsTensorToWrite> tensors;
  size_t offset = 0;
  for (const TensorSpec& spec : specs) {
    size_t count = 1;
    for (int64_t extent : spec.shape) count *= static_cast<size_t>(extent);
    tensors.push_back({spec.name, DType::f32, spec.shape,
                       std::as_bytes(std::span<const float>(values.data() + offset, count))});
    offset += count;
  }
  write_safetensors(directory / "model.safetensors", tensors,
                    {{"format", "bit-ttt-model"}, {"init_seed", std::to_string(seed)}});
  checked.save(directory / "config.json");
}

}  // namespace bit_ttt
