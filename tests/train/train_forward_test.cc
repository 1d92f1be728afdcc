// The training forward computes the model of MODEL_SPEC.md §3: its logits match
// BitLlama::forward (the inference engine) on the same model directory.
#include <gtest/gtest.h>

#include <cmath>

#include "bit_ttt/model.h"
#include "core/thread_pool.h"
#include "test_util.h"
#include "train/forward_backward.h"
#include "train/params.h"
#include "train_test_util.h"

namespace bit_ttt {
namespace {

using testing::random_tokens;
using testing::TempDir;

BitLlamaConfig logits_test_config(ActivationQuant mode) {
  BitLlamaConfig config;
  config.vocab_size = 97;
  config.hidden_dim = 32;
  config.num_layers = 3;
  config.inner_lr = 0.5f;  // large η so the memory matters visibly
  config.intermediate_dim = 48;
  config.ttt_dim = 8;
  config.activation_quant = mode;
  config.finalize();
  return config;
}

class TrainForwardTest : public ::testing::TestWithParam<ActivationQuant> {};

TEST_P(TrainForwardTest, LogitsMatchInferenceForward) {
  TempDir dir;
  const BitLlamaConfig config = logits_test_config(GetParam());
  write_random_model(config, 42, dir.path());
  const BitLlama model = BitLlama::load(dir.path());
  const ModelParams params = ModelParams::load(dir.path());
  const int64_t batch = 3, seq_len = 40, V = config.vocab_size;
  const auto tokens = random_tokens(static_cast<size_t>(batch * seq_len), 97, 7);

  for (int threads : {1, 2}) {
    set_default_thread_count(threads);
    auto workspace = make_train_workspace();
    std::vector<float> logits(static_cast<size_t>(batch * seq_len * V));
    forward_logits(params, tokens, batch, seq_len, logits, *workspace);
    for (int64_t b = 0; b < batch; ++b) {
      TttState state = model.new_state();  // S_0 = 0 per sequence
      const std::span<const int32_t> sequence(tokens.data() + b * seq_len,
                                              static_cast<size_t>(seq_len));
      const std::vector<float> expected = model.forward(sequence, state);
      for (int64_t t = 0; t < seq_len; ++t) {
        double max_diff = 0, max_ref = 0;
        for (int64_t v = 0; v < V; ++v) {
          const double e = expected[static_cast<size_t>(t * V + v)];
          max_diff = std::max(
              max_diff, std::fabs(logits[static_cast<size_t>((b * seq_len + t) * V + v)] - e));
          max_ref = std::max(max_ref, std::fabs(e));
        }
        EXPECT_LT(max_diff / max_ref, 1e-4)
            << "threads " << threads << " sequence " << b << " position " << t;
      }
    }
  }
  set_default_thread_count(hardware_thread_count());
}

// The loss is the mean cross-entropy of those logits against the next tokens.
TEST_P(TrainForwardTest, LossIsMeanNextTokenCrossEntropy) {
  TempDir dir;
  const BitLlamaConfig config = logits_test_config(GetParam());
  write_random_model(config, 43, dir.path());
  const ModelParams params = ModelParams::load(dir.path());
  const int64_t batch = 2, seq_len = 11, V = config.vocab_size;
  const auto tokens = random_tokens(static_cast<size_t>(batch * seq_len), 97, 8);
  auto workspace = make_train_workspace();
  std::vector<float> logits(static_cast<size_t>(batch * seq_len * V));
  const double loss = forward_logits(params, tokens, batch, seq_len, logits, *workspace);
  double sum = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t + 1 < seq_len; ++t) {
      const float* z = logits.data() + (b * seq_len + t) * V;
      double max_z = z[0], sum_exp = 0;
      for (int64_t v = 0; v < V; ++v) max_z = std::max(max_z, double(z[v]));
      for (int64_t v = 0; v < V; ++v) sum_exp += std::exp(z[v] - max_z);
      sum += std::log(sum_exp) + max_z - z[tokens[static_cast<size_t>(b * seq_len + t + 1)]];
    }
  EXPECT_NEAR(loss, sum / static_cast<double>(batch * (seq_len - 1)), 1e-5);
  EXPECT_EQ(forward_backward(params, tokens, batch, seq_len, nullptr, *workspace), loss);
}

INSTANTIATE_TEST_SUITE_P(BothModes, TrainForwardTest,
                         ::testing::Values(ActivationQuant::none, ActivationQuant::int8),
                         [](const ::testing::TestParamInfo<ActivationQuant>& param_info) {
                           return std::string(activation_quant_name(param_info.param));
                         });

}  // namespace
}  // namespace bit_ttt
