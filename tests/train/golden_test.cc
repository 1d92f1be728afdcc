// Regression: loss and gradient norms of a fixed model and batch (seed 2024 of
// `bit_llama init`'s initialiser), in both activation modes. The expected values
// were produced by this implementation after it passed the gradient checks, and
// agree with the double-precision path to ~1e-6; a change beyond the tolerance
// means the math changed.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "bit_ttt/model.h"
#include "test_util.h"
#include "train/forward_backward.h"
#include "train/params.h"

namespace bit_ttt {
namespace {

BitLlamaConfig golden_config(ActivationQuant mode) {
  BitLlamaConfig config;
  config.vocab_size = 64;
  config.hidden_dim = 16;
  config.num_layers = 2;
  config.inner_lr = 0.3f;
  config.intermediate_dim = 40;
  config.ttt_dim = 8;
  config.activation_quant = mode;
  config.finalize();
  return config;
}

double norm_of(const ModelParams& grads, const std::string& name) {
  const ParamEntry& entry = grads.entry(name);
  double sum = 0;
  for (size_t i = 0; i < entry.count; ++i)
    sum += double(grads.values[entry.offset + i]) * grads.values[entry.offset + i];
  return std::sqrt(sum);
}

class GoldenTest : public ::testing::TestWithParam<ActivationQuant> {};

TEST_P(GoldenTest, LossAndGradientNorms) {
  testing::TempDir dir;
  write_random_model(golden_config(GetParam()), 2024, dir.path());
  const ModelParams params = ModelParams::load(dir.path());
  const int64_t batch = 2, seq_len = 16;
  std::vector<int32_t> tokens(batch * seq_len);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 37 + 11) % 64);
  ModelParams grads = ModelParams::zeros(params.config);
  auto workspace = make_train_workspace();
  const double loss = forward_backward(params, tokens, batch, seq_len, &grads, *workspace);

  const bool int8 = GetParam() == ActivationQuant::int8;
  const double expected_loss = int8 ? 4.15922915 : 4.15921737;
  const std::map<std::string, double> expected_norms =
      int8 ? std::map<std::string, double>{{"embed.weight", 0.741700635},
                                           {"layers.0.ttt.down.weight", 0.281338971},
                                           {"layers.0.ttt.up.weight", 0.278882771},
                                           {"layers.0.norm1.weight", 0.00405071413},
                                           {"layers.1.mlp.gate_proj.weight", 0.00522530772},
                                           {"layers.1.mlp.down_proj.weight", 0.00579057787},
                                           {"norm_f.weight", 0.00609270044},
                                           {"lm_head.weight", 0.712659648}}
           : std::map<std::string, double>{{"embed.weight", 0.74173302},
                                           {"layers.0.ttt.down.weight", 0.281479476},
                                           {"layers.0.ttt.up.weight", 0.278908604},
                                           {"layers.0.norm1.weight", 0.00403112597},
                                           {"layers.1.mlp.gate_proj.weight", 0.00522162397},
                                           {"layers.1.mlp.down_proj.weight", 0.00578533977},
                                           {"norm_f.weight", 0.0060781628},
                                           {"lm_head.weight", 0.71266423}};
  EXPECT_NEAR(loss, expected_loss, 1e-5 * expected_loss);
  for (const auto& [name, expected] : expected_norms)
    EXPECT_NEAR(norm_of(grads, name), expected, 1e-4 * expected) << name;

  // The double-precision path agrees with the same numbers.
  std::vector<double> values(params.values.begin(), params.values.end());
  std::vector<double> grads_double(values.size(), 0.0);
  const double loss_double = forward_backward_generic<double>(
      params, values, tokens, batch, seq_len, grads_double, 1.0, QuantizeMode::ste, {}, *workspace);
  EXPECT_NEAR(loss_double, expected_loss, 1e-5 * expected_loss);
  for (const auto& [name, expected] : expected_norms) {
    const ParamEntry& entry = params.entry(name);
    double sum = 0;
    for (size_t i = 0; i < entry.count; ++i)
      sum += grads_double[entry.offset + i] * grads_double[entry.offset + i];
    EXPECT_NEAR(std::sqrt(sum), expected, 1e-4 * expected) << name << " (double)";
  }
}

INSTANTIATE_TEST_SUITE_P(BothModes, GoldenTest,
                         ::testing::Values(ActivationQuant::none, ActivationQuant::int8),
                         [](const ::testing::TestParamInfo<ActivationQuant>& param_info) {
                           return std::string(activation_quant_name(param_info.param));
                         });

}  // namespace
}  // namespace bit_ttt
