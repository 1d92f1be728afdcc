// Bad model files and configs give clear errors naming the file and the problem.
#include <gtest/gtest.h>

#include <fstream>

#include "bit_ttt/config.h"
#include "bit_ttt/model.h"
#include "io/safetensors.h"
#include "model/weights.h"
#include "model_test_util.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::TempDir;

using testing::expect_error;

BitLlamaConfig parse(const std::string& text) {
  return BitLlamaConfig::from_json_text(text, "cfg.json");
}

TEST(Config, SeedFormatGetsSpecDefaults) {
  const auto config = parse(R"({"vocab_size":16384,"hidden_dim":256,"num_layers":8,"inner_lr":0.1})");
  EXPECT_EQ(config.intermediate_dim, 1024);
  EXPECT_EQ(config.ttt_dim, 64);
  EXPECT_FLOAT_EQ(config.rms_norm_eps, 1e-5f);
  EXPECT_EQ(config.activation_quant, ActivationQuant::none);
  EXPECT_FALSE(config.n_gpu_layers.has_value());
  const BitLlamaConfig seed_form(16384, 256, 8, 0.1f);
  EXPECT_TRUE(seed_form.same_shape(config));
}

TEST(Config, AliasesUnknownKeysAndRoundTrip) {
  const auto config = parse(
      R"({"vocab_size":100,"hidden_size":64,"num_hidden_layers":2,"inner_lr":0.2,
          "intermediate_size":96,"activation_quant":"int8","n_gpu_layers":"auto",
          "my_note":{"a":[1,2]}})");
  EXPECT_EQ(config.hidden_dim, 64);
  EXPECT_EQ(config.num_layers, 2);
  EXPECT_EQ(config.intermediate_dim, 96);
  EXPECT_EQ(config.activation_quant, ActivationQuant::int8);
  EXPECT_FALSE(config.n_gpu_layers.has_value());
  const auto again = parse(config.to_json_text());
  EXPECT_TRUE(again.same_shape(config));
  EXPECT_EQ(again.extra_keys.at("my_note"), R"({"a":[1,2]})");
  EXPECT_NE(config.to_json_text().find("\"ttt_dim\": 16"), std::string::npos);
  EXPECT_EQ(parse(R"({"vocab_size":10,"hidden_dim":8,"n_layers":1,"inner_lr":1})").num_layers, 1);
}

TEST(Config, BadValuesNameTheKey) {
  expect_error([] { parse("{not json"); }, {"cfg.json", "invalid JSON"});
  expect_error([] { parse("[1,2]"); }, {"cfg.json", "JSON object"});
  expect_error([] { parse(R"({"hidden_dim":8,"num_layers":1,"inner_lr":1})"); },
               {"cfg.json", "missing required key 'vocab_size'"});
  expect_error([] { parse(R"({"vocab_size":10,"hidden_dim":8,"num_layers":1})"); },
               {"missing required key 'inner_lr'"});
  expect_error([] { parse(R"({"vocab_size":10,"hidden_dim":10,"num_layers":1,"inner_lr":1})"); },
               {"'hidden_dim'", "divisible by 4"});
  expect_error([] { parse(R"({"vocab_size":-3,"hidden_dim":8,"num_layers":1,"inner_lr":1})"); },
               {"'vocab_size'", "positive"});
  expect_error([] { parse(R"({"vocab_size":10,"hidden_dim":8,"num_layers":0,"inner_lr":1})"); },
               {"'num_layers'", "positive"});
  expect_error([] { parse(R"({"vocab_size":10,"hidden_dim":8,"num_layers":1,"inner_lr":0})"); },
               {"'inner_lr'"});
  expect_error([] { parse(R"({"vocab_size":10,"hidden_dim":8,"num_layers":1,"inner_lr":-0.1})"); },
               {"'inner_lr'"});
  expect_error([] { parse(R"({"vocab_size":"10","hidden_dim":8,"num_layers":1,"inner_lr":1})"); },
               {"'vocab_size'", "integer"});
  expect_error([] { parse(R"({"vocab_size":10.5,"hidden_dim":8,"num_layers":1,"inner_lr":1})"); },
               {"'vocab_size'", "integer"});
  expect_error(
      [] { parse(R"({"vocab_size":10,"hidden_dim":8,"hidden_size":16,"num_layers":1,"inner_lr":1})"); },
      {"'hidden_dim'", "'hidden_size'", "disagree"});
  expect_error(
      [] { parse(R"({"vocab_size":10,"hidden_dim":8,"num_layers":1,"inner_lr":1,"activation_quant":"int4"})"); },
      {"'activation_quant'", "int4"});
  expect_error(
      [] { parse(R"({"vocab_size":10,"hidden_dim":8,"num_layers":1,"inner_lr":1,"ttt_dim":0})"); },
      {"'ttt_dim'"});
  expect_error(
      [] { parse(R"({"vocab_size":10,"hidden_dim":8,"num_layers":1,"inner_lr":1,"rms_norm_eps":-1})"); },
      {"'rms_norm_eps'"});
  expect_error(
      [] { parse(R"({"vocab_size":10,"hidden_dim":8,"num_layers":2,"inner_lr":1,"n_gpu_layers":3})"); },
      {"'n_gpu_layers'"});
  // Agreeing aliases are fine.
  EXPECT_EQ(parse(R"({"vocab_size":10,"hidden_dim":8,"hidden_size":8,"num_layers":1,"inner_lr":1})")
                .hidden_dim,
            8);
}

// Rewrites a model's safetensors with one tensor changed (or dropped).
void rewrite_weights(const std::filesystem::path& dir, const std::string& target,
                     std::vector<int64_t> new_shape, bool drop, bool add_extra = false) {
  const auto config = BitLlamaConfig::load(dir / "config.json");
  std::vector<std::vector<float>> storage;
  std::vector<SafetensorsTensorToWrite> tensors;
  {
    const SafetensorsReader reader = SafetensorsReader::open(dir / "model.safetensors");
    for (const TensorSpec& spec : model_tensor_specs(config)) {
      if (spec.name == target && drop) continue;
      std::vector<int64_t> shape = spec.name == target ? new_shape : spec.shape;
      int64_t count = 1;
      for (int64_t e : shape) count *= e;
      storage.emplace_back(static_cast<size_t>(count), 0.01f);
      tensors.push_back({spec.name, DType::f32, shape,
                         std::as_bytes(std::span<const float>(storage.back()))});
    }
  }
  if (add_extra) {
    storage.emplace_back(4, 0.0f);
    tensors.push_back({"rotary.inv_freq", DType::f32, {4},
                       std::as_bytes(std::span<const float>(storage.back()))});
  }
  write_safetensors(dir / "model.safetensors", tensors);
}

TEST(ModelFiles, MissingTensorWrongShapeAndMissingFiles) {
  TempDir dir;
  write_random_model(testing::tiny_config(), 1, dir.path());
  rewrite_weights(dir.path(), "layers.1.mlp.up_proj.weight", {}, /*drop=*/true);
  expect_error([&] { BitLlama::load(dir.path()); },
               {"model.safetensors", "missing tensor 'layers.1.mlp.up_proj.weight'"});

  write_random_model(testing::tiny_config(), 1, dir.path());
  rewrite_weights(dir.path(), "layers.2.ttt.down.weight", {8, 31}, false);
  expect_error([&] { BitLlama::load(dir.path()); },
               {"model.safetensors", "layers.2.ttt.down.weight", "[8, 31]", "[8, 32]"});

  write_random_model(testing::tiny_config(), 1, dir.path());
  rewrite_weights(dir.path(), "", {}, false, /*add_extra=*/true);
  EXPECT_NO_THROW(BitLlama::load(dir.path()));  // extra tensors: a warning only

  expect_error([&] { BitLlama::load(dir / "nope"); }, {"nope", "no such model"});
  std::filesystem::remove(dir / "config.json");
  expect_error([&] { BitLlama::load(dir.path()); }, {"missing config.json"});
}

TEST(ModelFiles, ConfigDisagreeingWithWeightsNamesTheTensor) {
  TempDir dir;
  write_random_model(testing::tiny_config(), 1, dir.path());
  BitLlamaConfig bigger = testing::tiny_config();
  bigger.vocab_size = 98;
  bigger.save(dir / "config.json");
  expect_error([&] { BitLlama::load(dir.path()); }, {"embed.weight", "[97, 32]", "[98, 32]"});
}

}  // namespace
}  // namespace bit_ttt
