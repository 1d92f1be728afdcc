// The engine's forward pass against the spec: an independent double-precision
// reference, streaming == batched, chunk boundaries, and state round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "backend/backend.h"
#include "bit_ttt/model.h"
#include "model_test_util.h"
#include "reference_model.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::TempDir;

std::vector<int32_t> some_tokens(size_t n, int32_t vocab, uint32_t seed) {
  std::vector<int32_t> tokens(n);
  uint32_t x = seed;
  for (auto& t : tokens) {
    x = x * 1664525u + 1013904223u;
    t = static_cast<int32_t>((x >> 8) % static_cast<uint32_t>(vocab));
  }
  return tokens;
}

class ForwardTest : public ::testing::TestWithParam<ActivationQuant> {
 protected:
  void SetUp() override {
    write_random_model(testing::tiny_config(GetParam()), 1234, dir_.path());
  }
  TempDir dir_;
};

TEST_P(ForwardTest, MatchesDoublePrecisionReference) {
  const BitLlama model = BitLlama::load(dir_.path());
  const auto reference = testing::ReferenceModel::load(dir_.path());
  const auto tokens = some_tokens(12, 97, 7);
  TttState state = model.new_state();
  const std::vector<float> logits = model.forward(tokens, state);
  std::vector<std::vector<double>> ref_states;
  const auto ref_logits = reference.forward(tokens, &ref_states);
  // int8 mode: activation rounding can land on the other side of .5 when float
  // and double disagree in the last bit (spec §3), so its tolerance is looser.
  const double tolerance = GetParam() == ActivationQuant::none ? 2e-5 : 2e-2;
  for (size_t t = 0; t < tokens.size(); ++t)
    EXPECT_LT(testing::max_relative_error(logits.data() + t * 97, ref_logits[t].data(), 97),
              tolerance)
        << "position " << t;
  for (int64_t layer = 0; layer < 3; ++layer) {
    const auto host = state.layer_to_host(layer);
    EXPECT_LT(testing::max_relative_error(host.data(), ref_states[layer].data(), host.size()),
              tolerance * 5)
        << "layer " << layer;
  }
  EXPECT_EQ(state.n_tokens(), 12);
}

TEST_P(ForwardTest, StreamingEqualsBatchedAcrossChunkBoundaries) {
  const BitLlama model = BitLlama::load(dir_.path());
  const auto tokens = some_tokens(300, 97, 9);  // > one 256-row prefill chunk
  TttState batched_state = model.new_state();
  const std::vector<float> batched = model.forward(tokens, batched_state);

  TttState streaming_state = model.new_state();
  std::vector<float> one(97);
  for (size_t t = 0; t < tokens.size(); ++t) {
    model.forward(std::span<const int32_t>(&tokens[t], 1), streaming_state, one);
    double max_diff = 0, max_ref = 0;
    for (int v = 0; v < 97; ++v) {
      max_diff = std::max(max_diff, double(std::fabs(one[v] - batched[t * 97 + v])));
      max_ref = std::max(max_ref, double(std::fabs(batched[t * 97 + v])));
    }
    ASSERT_LE(max_diff, 1e-5 * max_ref) << "position " << t;
  }
  for (int64_t layer = 0; layer < 3; ++layer)
    EXPECT_EQ(streaming_state.layer_to_host(layer), batched_state.layer_to_host(layer));

  // LogitsMode::last gives the last row of the full logits.
  TttState last_state = model.new_state();
  const std::vector<float> last = model.forward(tokens, last_state, LogitsMode::last);
  ASSERT_EQ(last.size(), 97u);
  EXPECT_EQ(0, std::memcmp(last.data(), batched.data() + 299 * 97, 97 * sizeof(float)));
}

TEST_P(ForwardTest, SaveLoadStateContinuesBitIdentically) {
  const BitLlama model = BitLlama::load(dir_.path());
  const auto tokens = some_tokens(40, 97, 11);
  TttState uninterrupted = model.new_state();
  const std::vector<float> expected = model.forward(tokens, uninterrupted);

  const size_t k = 17;
  TttState first = model.new_state();
  model.forward(std::span<const int32_t>(tokens.data(), k), first);
  model.save_state(first, dir_ / "memory.safetensors");
  TttState resumed = model.load_state(dir_ / "memory.safetensors");
  EXPECT_EQ(resumed.n_tokens(), static_cast<int64_t>(k));
  const std::vector<float> rest =
      model.forward(std::span<const int32_t>(tokens.data() + k, tokens.size() - k), resumed);
  EXPECT_EQ(0, std::memcmp(rest.data(), expected.data() + k * 97, rest.size() * sizeof(float)));
  EXPECT_EQ(resumed.n_tokens(), 40);
}

INSTANTIATE_TEST_SUITE_P(BothModes, ForwardTest,
                         ::testing::Values(ActivationQuant::none, ActivationQuant::int8),
                         [](const ::testing::TestParamInfo<ActivationQuant>& param_info) {
                           return std::string(activation_quant_name(param_info.param));
                         });

TEST(TttStateTest, CopyResetAndIndependence) {
  TempDir dir;
  write_random_model(testing::tiny_config(), 5, dir.path());
  const BitLlama model = BitLlama::load(dir.path());
  TttState state = model.new_state();
  const auto tokens = some_tokens(5, 97, 3);
  model.forward(tokens, state);
  TttState fork = state;  // a copy is a fork of the memory
  EXPECT_EQ(fork.layer_to_host(1), state.layer_to_host(1));
  const int32_t more[1] = {4};
  model.forward(more, fork);
  EXPECT_NE(fork.layer_to_host(1), state.layer_to_host(1));
  EXPECT_EQ(state.n_tokens(), 5);
  EXPECT_EQ(fork.n_tokens(), 6);
  state.reset();
  EXPECT_EQ(state.n_tokens(), 0);
  for (float v : state.layer_to_host(0)) EXPECT_EQ(v, 0.0f);
  // After a reset the model behaves as fresh.
  TttState fresh = model.new_state();
  EXPECT_EQ(model.forward(tokens, state), model.forward(tokens, fresh));
}

TEST(TttStateTest, StateOfAnotherShapeIsAClearError) {
  TempDir dir;
  write_random_model(testing::tiny_config(), 5, dir / "a");
  BitLlamaConfig other = testing::tiny_config();
  other.ttt_dim = 4;
  write_random_model(other, 5, dir / "b");
  const BitLlama model_a = BitLlama::load(dir / "a");
  const BitLlama model_b = BitLlama::load(dir / "b");
  TttState state = model_a.new_state();
  model_a.save_state(state, dir / "state.safetensors");
  try {
    model_b.load_state(dir / "state.safetensors");
    FAIL() << "expected an error";
  } catch (const std::exception& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("state belongs to a model of shape"), std::string::npos) << message;
    EXPECT_NE(message.find("d=8"), std::string::npos) << message;
    EXPECT_NE(message.find("d=4"), std::string::npos) << message;
  }
  TttState wrong = model_b.new_state();
  EXPECT_THROW(model_a.forward(std::vector<int32_t>{1}, wrong), std::exception);
  // A file that is not a state.
  EXPECT_THROW(model_a.load_state(dir / "a" / "model.safetensors"), std::exception);
}

TEST(RandomInit, DeterministicPerSeedWithSpecStatistics) {
  TempDir dir;
  write_random_model(testing::tiny_config(), 42, dir / "a");
  write_random_model(testing::tiny_config(), 42, dir / "b");
  write_random_model(testing::tiny_config(), 43, dir / "c");
  const auto a = testing::read_file_bytes(dir / "a" / "model.safetensors");
  EXPECT_EQ(a, testing::read_file_bytes(dir / "b" / "model.safetensors"));
  EXPECT_NE(a, testing::read_file_bytes(dir / "c" / "model.safetensors"));
  const auto reference = testing::ReferenceModel::load(dir / "a");
  for (const auto& [name, values] : reference.tensors) {
    if (name.find("norm") != std::string::npos) {
      for (double v : values) ASSERT_EQ(v, 1.0) << name;
      continue;
    }
    double sum = 0, sum_squares = 0;
    for (double v : values) sum += v, sum_squares += v * v;
    const double n = static_cast<double>(values.size());
    if (n < 1000) continue;
    EXPECT_NEAR(sum / n, 0.0, 0.003) << name;
    EXPECT_NEAR(std::sqrt(sum_squares / n), 0.02, 0.002) << name;
  }
}

TEST(ModelFiles, DirectoryAndSafetensorsPathBothLoad) {
  TempDir dir;
  write_random_model(testing::tiny_config(), 1, dir.path());
  const BitLlama by_dir = BitLlama::load(dir.path());
  const BitLlama by_file = BitLlama::load(dir / "model.safetensors");
  EXPECT_EQ(by_dir.fingerprint(), by_file.fingerprint());
  EXPECT_EQ(by_dir.placement_summary(), "embed:cpu blocks 0-2:cpu head:cpu");
  LoadOptions cuda;
  cuda.device = "cuda";
  if (!device_available(Device::cuda)) {
    EXPECT_THROW(BitLlama::load(dir.path(), cuda), std::exception);
  }
  LoadOptions bad;
  bad.device = "gpu0";
  EXPECT_THROW(BitLlama::load(dir.path(), bad), std::exception);
}

}  // namespace
}  // namespace bit_ttt
