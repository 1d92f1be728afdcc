#include "train/params.h"

#include <gtest/gtest.h>

#include "bit_ttt/model.h"
#include "core/dtype.h"
#include "io/safetensors.h"
#include "model/weights.h"
#include "test_util.h"
#include "train_test_util.h"

namespace bit_ttt {
namespace {

using testing::expect_error;
using testing::grad_check_config;
using testing::TempDir;

TEST(ModelParamsTest, LayoutFollowsTheSpecOrderInOneBuffer) {
  const BitLlamaConfig config = grad_check_config();
  const ModelParams params = ModelParams::zeros(config);
  const auto specs = model_tensor_specs(params.config);
  ASSERT_EQ(params.entries.size(), specs.size());
  size_t offset = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ParamEntry& entry = params.entries[i];
    EXPECT_EQ(entry.name, specs[i].name);
    EXPECT_EQ(entry.shape, specs[i].shape);
    EXPECT_EQ(entry.offset, offset);
    EXPECT_EQ(entry.is_matrix, specs[i].shape.size() == 2);
    offset += entry.count;
  }
  EXPECT_EQ(params.values.size(), offset);
  EXPECT_EQ(static_cast<int64_t>(offset), params.config.n_parameters());
  EXPECT_TRUE(params.entry("norm_f.weight").shape == std::vector<int64_t>{8});
  EXPECT_FALSE(params.entry("layers.1.norm2.weight").is_matrix);
  EXPECT_TRUE(params.entry("layers.1.mlp.up_proj.weight").is_matrix);
}

TEST(ModelParamsTest, LoadMatchesTheFileAndSaveRoundTrips) {
  TempDir dir;
  const BitLlamaConfig config = grad_check_config(ActivationQuant::int8);
  write_random_model(config, 3, dir.path());
  const ModelParams params = ModelParams::load(dir.path());
  EXPECT_EQ(params.config.activation_quant, ActivationQuant::int8);
  const SafetensorsReader reader = SafetensorsReader::open(dir / "model.safetensors");
  for (const ParamEntry& entry : params.entries) {
    const F32Data data = reader.load_f32(entry.name, entry.shape);
    const float* ours = params.tensor(entry.name);
    for (size_t i = 0; i < entry.count; ++i) ASSERT_EQ(ours[i], data.data[i]) << entry.name;
  }
  // A .safetensors path with config.json next to it works too.
  EXPECT_EQ(ModelParams::load(dir / "model.safetensors").values, params.values);

  ModelParams changed = params;
  changed.tensor("lm_head.weight")[5] = 1.25f;
  changed.save_safetensors(dir / "model.safetensors", {{"step", "7"}});
  const ModelParams reloaded = ModelParams::load(dir.path());
  EXPECT_EQ(reloaded.values, changed.values);
  EXPECT_EQ(SafetensorsReader::open(dir / "model.safetensors").metadata().at("step"), "7");
  // The inference engine reads what the trainer writes.
  EXPECT_NO_THROW(BitLlama::load(dir.path()));
}

TEST(ModelParamsTest, HalfPrecisionCheckpointsLoad) {
  TempDir dir;
  const BitLlamaConfig config = grad_check_config();
  const ModelParams zeros = ModelParams::zeros(config);
  std::vector<std::vector<uint16_t>> storage;
  std::vector<SafetensorsTensorToWrite> tensors;
  for (const ParamEntry& entry : zeros.entries) {
    // Multiples of 1/8 in [-1, 1): exact in bf16.
    std::vector<uint16_t> bits(entry.count);
    for (size_t i = 0; i < entry.count; ++i)
      bits[i] = f32_to_bf16(static_cast<float>(i % 16) / 8.0f - 1.0f);
    storage.push_back(std::move(bits));
    tensors.push_back({entry.name, DType::bf16, entry.shape,
                       std::as_bytes(std::span<const uint16_t>(storage.back()))});
  }
  write_safetensors(dir / "model.safetensors", tensors);
  config.save(dir / "config.json");
  const ModelParams params = ModelParams::load(dir.path());
  for (const ParamEntry& entry : params.entries)
    for (size_t i = 0; i < entry.count; ++i)
      ASSERT_EQ(params.values[entry.offset + i], static_cast<float>(i % 16) / 8.0f - 1.0f);
}

TEST(ModelParamsTest, ErrorsNameTheProblem) {
  TempDir dir;
  ModelParams params = ModelParams::zeros(grad_check_config());
  expect_error([&] { params.tensor("layers.9.norm1.weight"); }, {"layers.9.norm1.weight"});
  expect_error([&] { ModelParams::load(dir / "nothing"); }, {"nothing"});
  // Wrong shape: a model of another width under this config.
  BitLlamaConfig other = grad_check_config();
  other.hidden_dim = 12;
  write_random_model(other, 1, dir.path());
  grad_check_config().save(dir / "config.json");
  expect_error([&] { ModelParams::load(dir.path()); }, {"embed.weight", "shape"});
}

}  // namespace
}  // namespace bit_ttt
