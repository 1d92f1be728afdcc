// Models in one .bitt file: logits equal the safetensors model's (bit for bit
// where the math is the same, within the documented tolerance for f16 / bf16 /
// int8 heads), the tokenizer travels inside, and bad files are clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "bit_ttt/llama.h"
#include "core/atomic_file.h"
#include "io/bitt.h"
#include "model_test_util.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::expect_error;
using testing::TempDir;

std::vector<int32_t> some_tokens(int64_t vocab, size_t n) {
  std::vector<int32_t> tokens(n);
  for (size_t i = 0; i < n; ++i) tokens[i] = static_cast<int32_t>((i * 37 + 5) % vocab);
  return tokens;
}

// Largest |a - b| over the largest |a|.
double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(a[i])));
  }
  return diff / scale;
}

class BittModelTest : public ::testing::TestWithParam<ActivationQuant> {
 protected:
  void SetUp() override {
    config_ = testing::tiny_config(GetParam());
    config_.vocab_size = 300;
    write_random_model(config_, 5, dir_.path());
    write_file_atomically(dir_ / "tokenizer.json", byte_level_tokenizer_json({"<|endoftext|>"}));
    tokens_ = some_tokens(config_.vocab_size, 40);
    const BitLlama model = BitLlama::load(dir_.path());
    TttState state = model.new_state();
    reference_ = model.forward(tokens_, state);
  }
  std::vector<float> logits_of(const std::filesystem::path& path) {
    const BitLlama model = BitLlama::load(path);
    TttState state = model.new_state();
    return model.forward(tokens_, state);
  }
  std::filesystem::path exported(const std::string& name, ExportOptions options) {
    const auto path = dir_ / name;
    export_bitt(dir_.path(), path, options);
    return path;
  }
  BitLlamaConfig config_;
  TempDir dir_;
  std::vector<int32_t> tokens_;
  std::vector<float> reference_;
};

TEST_P(BittModelTest, FloatHeadAnd2BitIsBitIdenticalToSafetensors) {
  const auto path = exported("m.bitt", {"2bit", "f32", "f32"});
  const std::vector<float> logits = logits_of(path);
  ASSERT_EQ(logits.size(), reference_.size());
  EXPECT_EQ(0, std::memcmp(logits.data(), reference_.data(), logits.size() * sizeof(float)));
  EXPECT_EQ(BitLlama::load(path).fingerprint(), BitLlama::load(dir_.path()).fingerprint());
}

// 1.6-bit holds the same codes; only the f32 kernel's summation order differs.
TEST_P(BittModelTest, OnePointSixBitHoldsTheSameWeights) {
  const auto path = exported("m.bitt", {"1.6bit", "f32", "f32"});
  EXPECT_LT(relative_difference(reference_, logits_of(path)), 1e-5);
  EXPECT_LT(std::filesystem::file_size(path),
            std::filesystem::file_size(exported("i2.bitt", {"2bit", "f32", "f32"})));
}

// Documented tolerances (docs/bitt-format.md), relative to the largest logit:
// head f16 ≤ 1e-3, bf16 ≤ 5e-3, int8 rows ≤ 2e-2; a reduced embedding ≤ 2e-2
// (with int8 activations a rounded embedding can flip quantization steps).
TEST_P(BittModelTest, ReducedPrecisionHeadsStayWithinTheirTolerance) {
  const struct {
    const char* dtype;
    double tolerance;
  } cases[] = {{"f16", 1e-3}, {"bf16", 5e-3}, {"int8", 2e-2}};
  for (const auto& c : cases) {
    const auto path = exported(std::string(c.dtype) + ".bitt", {"2bit", c.dtype, "f32"});
    const double difference = relative_difference(reference_, logits_of(path));
    const double embed_difference = relative_difference(
        reference_, logits_of(exported(std::string(c.dtype) + "e.bitt", {"2bit", "f32", c.dtype})));
    EXPECT_LT(embed_difference, 2e-2) << c.dtype;
    EXPECT_LT(difference, c.tolerance) << c.dtype;
    EXPECT_GT(difference, 0.0) << c.dtype << ": a reduced head should not be exact";
  }
}

TEST_P(BittModelTest, ReExportingABittFileConvertsLayouts) {
  const auto first = exported("a.bitt", {"1.6bit", "f32", "f32"});
  const auto second = dir_ / "b.bitt";
  export_bitt(first, second, {"2bit", "f32", "f32"});
  const std::vector<float> logits = logits_of(second);
  EXPECT_EQ(0, std::memcmp(logits.data(), reference_.data(), logits.size() * sizeof(float)));
  expect_error([&] { export_bitt(second, second, {}); }, {"overwrite its own source"});
}

INSTANTIATE_TEST_SUITE_P(BothModes, BittModelTest,
                         ::testing::Values(ActivationQuant::none, ActivationQuant::int8));

class BittFileErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::tiny_config();
    config_.vocab_size = 300;
    write_random_model(config_, 6, dir_.path());
    write_file_atomically(dir_ / "tokenizer.json", byte_level_tokenizer_json({"<|endoftext|>"}));
    path_ = dir_ / "m.bitt";
    export_bitt(dir_.path(), path_, {"2bit", "int8", "f16"});
  }
  // Rewrites the file with `edit` applied to its contents (checksums recomputed
  // by the writer, so only the model-level checks can catch the change).
  void rewrite(const std::function<void(BittContents&)>& edit) {
    const BittFile file = BittFile::open(path_);
    BittContents contents;
    contents.config_json = file.config_json();
    contents.tokenizer_json = file.tokenizer_json();
    contents.fingerprint = file.fingerprint();
    contents.metadata = file.metadata();
    for (const BittTensor& t : file.tensors())
      contents.tensors.push_back({t.name, t.dtype, t.shape, t.scale, t.bytes});
    edit(contents);
    write_bitt(dir_ / "edited.bitt", contents);
  }
  BittTensorToWrite& tensor(BittContents& contents, const std::string& name) {
    for (auto& t : contents.tensors)
      if (t.name == name) return t;
    throw std::runtime_error("no tensor " + name);
  }
  BitLlamaConfig config_;
  TempDir dir_;
  std::filesystem::path path_;
};

TEST_F(BittFileErrorsTest, TokenizerTravelsInsideAndTextMatchesTheDirectory) {
  Llama from_directory = Llama::load_auto(dir_.path());
  Llama from_file = Llama::load_auto(path_);
  EXPECT_EQ(from_file.tokenizer().encode("hello"), from_directory.tokenizer().encode("hello"));
  GenerateOptions options;
  options.max_tokens = 12;
  options.sampling.temperature = 0;
  options.stop_at_eos = false;
  EXPECT_EQ(from_file.generate("abc", options).n_generated_tokens, 12);

  rewrite([](BittContents& c) { c.tokenizer_json.reset(); });
  expect_error([&] { Llama::load_auto(dir_ / "edited.bitt"); }, {"edited.bitt", "no tokenizer"});
}

TEST_F(BittFileErrorsTest, CorruptDataLoadsInstantlyButFailsVerify) {
  std::string bytes = testing::read_file_bytes(path_);
  bytes[bytes.size() - 100] ^= 0x5a;  // inside the last tensor's data
  testing::write_file_bytes(dir_ / "flipped.bitt", bytes);
  EXPECT_NO_THROW(BitLlama::load(dir_ / "flipped.bitt"));  // no data hashing at load
  LoadOptions verify;
  verify.verify = true;
  expect_error([&] { BitLlama::load(dir_ / "flipped.bitt", verify); },
               {"flipped.bitt", "checksum"});
  EXPECT_NO_THROW(BitLlama::load(path_, verify));
}

TEST_F(BittFileErrorsTest, TruncatedAndWrongVersionFilesAreClearErrors) {
  const std::string bytes = testing::read_file_bytes(path_);
  testing::write_file_bytes(dir_ / "short.bitt", bytes.substr(0, bytes.size() / 2));
  expect_error([&] { BitLlama::load(dir_ / "short.bitt"); }, {"short.bitt", "truncated"});
  std::string wrong_version = bytes;
  wrong_version[4] = 9;
  testing::write_file_bytes(dir_ / "v9.bitt", wrong_version);
  expect_error([&] { BitLlama::load(dir_ / "v9.bitt"); }, {"v9.bitt", "version"});
  expect_error([&] { BitLlama::load(dir_ / "absent.bitt"); }, {"absent.bitt"});
}

TEST_F(BittFileErrorsTest, ModelLevelProblemsNameTheTensor) {
  rewrite([&](BittContents& c) {
    std::erase_if(c.tensors, [](auto& t) { return t.name == "norm_f.weight"; });
  });
  expect_error([&] { BitLlama::load(dir_ / "edited.bitt"); }, {"edited.bitt", "norm_f.weight"});

  rewrite([&](BittContents& c) { tensor(c, "layers.1.mlp.up_proj.weight").scale.reset(); });
  expect_error([&] { BitLlama::load(dir_ / "edited.bitt"); },
               {"edited.bitt", "layers.1.mlp.up_proj.weight", "scale"});

  rewrite([&](BittContents& c) {
    std::erase_if(c.tensors, [](auto& t) { return t.name == "lm_head.weight.row_scales"; });
  });
  expect_error([&] { BitLlama::load(dir_ / "edited.bitt"); }, {"lm_head.weight", "row_scales"});

  // The config says 4 layers; the tensors are for 3.
  rewrite([&](BittContents& c) {
    auto json = nlohmann::json::parse(c.config_json);
    json["num_layers"] = 4;
    c.config_json = json.dump();
  });
  expect_error([&] { BitLlama::load(dir_ / "edited.bitt"); }, {"edited.bitt", "layers.3."});

  // A BitLinear weight stored as floats.
  std::vector<float> floats(static_cast<size_t>(config_.ttt_dim * config_.hidden_dim));
  rewrite([&](BittContents& c) {
    BittTensorToWrite& t = tensor(c, "layers.0.ttt.down.weight");
    t.dtype = BittDType::f32;
    t.scale.reset();
    t.bytes = {reinterpret_cast<const std::byte*>(floats.data()), floats.size() * sizeof(float)};
  });
  expect_error([&] { BitLlama::load(dir_ / "edited.bitt"); },
               {"layers.0.ttt.down.weight", "ternary_i2 or ternary_tq1"});

  expect_error([&] { BitLlama::load(config_, path_); }, {"m.bitt", "own config"});
}

}  // namespace
}  // namespace bit_ttt
