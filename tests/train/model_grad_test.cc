// Whole-model gradient checks. The model's gradients are STE gradients, which are
// not derivatives of its (piecewise constant in W) loss, so the end-to-end check by
// finite differences runs the SAME forward/backward code with identity quantization
// (W~ = W, x~ = x), in double, through the TTT recurrence with a large η. Then the
// quantized path is tied to it: its gradients are exactly the identity model's
// gradients taken at W~, which is what the STE means.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "train/forward_backward.h"
#include "train/params.h"
#include "train_test_util.h"

namespace bit_ttt {
namespace {

using testing::grad_check_config;
using testing::max_relative_difference;
using testing::numeric_gradient;
using testing::random_tokens;
using testing::random_values;

// Parameters with enough spread that every path carries signal: norm weights
// around 1, matrices uniform in ±0.6 (identity mode has no β to rescale them).
std::vector<double> grad_check_values(const ModelParams& layout, uint64_t seed) {
  std::vector<double> values = random_values(layout.values.size(), 0.6, seed);
  for (const ParamEntry& entry : layout.entries)
    if (!entry.is_matrix)
      for (size_t i = 0; i < entry.count; ++i)
        values[entry.offset + i] = 1.0 + 0.5 * values[entry.offset + i];
  return values;
}

double run(const ModelParams& layout, const std::vector<double>& values,
           const std::vector<int32_t>& tokens, int64_t batch, int64_t seq_len,
           std::vector<double>* grads, QuantizeMode mode, TrainWorkspace& workspace,
           double grad_scale = 1.0) {
  std::span<double> grad_span;
  if (grads) grad_span = *grads;
  return forward_backward_generic<double>(layout, values, tokens, batch, seq_len, grad_span,
                                          grad_scale, mode, {}, workspace);
}

std::vector<double> slice(const std::vector<double>& values, const ParamEntry& entry) {
  return std::vector<double>(
      values.begin() + static_cast<std::ptrdiff_t>(entry.offset),
      values.begin() + static_cast<std::ptrdiff_t>(entry.offset + entry.count));
}

TEST(ModelGradTest, IdentityModelMatchesFiniteDifferencesEverywhere) {
  const ModelParams layout = ModelParams::zeros(grad_check_config());
  std::vector<double> values = grad_check_values(layout, 1);
  const int64_t batch = 2, seq_len = 5;
  const auto tokens = random_tokens(batch * seq_len, 23, 2);
  auto workspace = make_train_workspace();

  std::vector<double> grads(values.size(), 0.0);
  run(layout, values, tokens, batch, seq_len, &grads, QuantizeMode::identity, *workspace);
  const std::vector<double> numeric = numeric_gradient(values, [&] {
    return run(layout, values, tokens, batch, seq_len, nullptr, QuantizeMode::identity, *workspace);
  });
  for (const ParamEntry& entry : layout.entries) {
    const auto analytic_part = slice(grads, entry);
    const auto numeric_part = slice(numeric, entry);
    EXPECT_LT(max_relative_difference(analytic_part, numeric_part), 1e-6) << entry.name;
    // Every tensor gets gradient (the TTT projections only through the recurrence).
    double norm = 0;
    for (double g : numeric_part) norm += g * g;
    EXPECT_GT(std::sqrt(norm), 1e-4) << entry.name;
  }
}

// The memory matters: with η = 0 the state stays 0, p = 0, and the TTT weights get no
// gradient; with η > 0 they do. Guards against a scan that silently drops its state.
TEST(ModelGradTest, TttWeightsLearnOnlyThroughTheState) {
  BitLlamaConfig config = grad_check_config();
  const ModelParams layout = ModelParams::zeros(config);
  const std::vector<double> values = grad_check_values(layout, 3);
  const auto tokens = random_tokens(10, 23, 4);
  auto workspace = make_train_workspace();
  std::vector<double> grads(values.size(), 0.0);
  run(layout, values, tokens, 2, 5, &grads, QuantizeMode::identity, *workspace);
  const auto ttt_down = slice(grads, layout.entry("layers.0.ttt.down.weight"));
  double norm = 0;
  for (double g : ttt_down) norm += g * g;
  EXPECT_GT(norm, 0.0);

  // A single token per sequence never reads the state (p_1 = S_0 f_1 = 0).
  std::vector<double> grads_single(values.size(), 0.0);
  const std::vector<int32_t> two = {3, 7};
  run(layout, values, two, 1, 2, &grads_single, QuantizeMode::identity, *workspace);
  // Position 0 has the only target; its p is 0, so ttt.down gets nothing.
  for (double g : slice(grads_single, layout.entry("layers.1.ttt.down.weight"))) EXPECT_EQ(g, 0.0);
}

// STE: quantized-path gradients at W equal identity-path gradients at W~ = β·Wq
// (same forward, same backward formulas), for every parameter.
TEST(ModelGradTest, SteGradientsAreIdentityGradientsAtQuantizedWeights) {
  const ModelParams layout = ModelParams::zeros(grad_check_config());
  const std::vector<double> values = grad_check_values(layout, 5);
  std::vector<double> dequantized = values;
  for (const ParamEntry& entry : layout.entries) {
    const bool bit_linear = entry.name.find("ttt.") != std::string::npos ||
                            entry.name.find("mlp.") != std::string::npos;
    if (!bit_linear) continue;
    double sum_abs = 0;
    for (size_t i = 0; i < entry.count; ++i) sum_abs += std::fabs(values[entry.offset + i]);
    const double beta = std::max(sum_abs / static_cast<double>(entry.count), 1e-5);
    for (size_t i = 0; i < entry.count; ++i)
      dequantized[entry.offset + i] =
          beta * std::clamp(std::nearbyint(values[entry.offset + i] / beta), -1.0, 1.0);
  }
  const auto tokens = random_tokens(12, 23, 6);
  auto workspace = make_train_workspace();
  std::vector<double> ste(values.size(), 0.0), identity(values.size(), 0.0);
  const double ste_loss = run(layout, values, tokens, 2, 6, &ste, QuantizeMode::ste, *workspace);
  const double identity_loss =
      run(layout, dequantized, tokens, 2, 6, &identity, QuantizeMode::identity, *workspace);
  EXPECT_NEAR(ste_loss, identity_loss, 1e-12);
  for (const ParamEntry& entry : layout.entries)
    EXPECT_LT(max_relative_difference(slice(ste, entry), slice(identity, entry)), 1e-12)
        << entry.name;
}

// The float trainer path against the double path on the same weights.
class PrecisionTest : public ::testing::TestWithParam<ActivationQuant> {};

TEST_P(PrecisionTest, FloatPathMatchesDoublePath) {
  const ModelParams layout = ModelParams::zeros(grad_check_config(GetParam()));
  const std::vector<double> values = grad_check_values(layout, 7);
  const auto tokens = random_tokens(2 * 9, 23, 8);
  auto workspace = make_train_workspace();
  std::vector<double> grads(values.size(), 0.0);
  const double loss = run(layout, values, tokens, 2, 9, &grads, QuantizeMode::ste, *workspace);

  ModelParams params = layout;
  params.values.assign(values.begin(), values.end());
  ModelParams float_grads = ModelParams::zeros(layout.config);
  const double float_loss = forward_backward(params, tokens, 2, 9, &float_grads, *workspace);
  EXPECT_NEAR(float_loss, loss, 1e-5 * loss);
  for (const ParamEntry& entry : layout.entries) {
    const std::vector<float> part(
        float_grads.values.begin() + static_cast<std::ptrdiff_t>(entry.offset),
        float_grads.values.begin() + static_cast<std::ptrdiff_t>(entry.offset + entry.count));
    EXPECT_LT(max_relative_difference(part, slice(grads, entry)), 1e-4) << entry.name;
  }
}

INSTANTIATE_TEST_SUITE_P(BothModes, PrecisionTest,
                         ::testing::Values(ActivationQuant::none, ActivationQuant::int8),
                         [](const ::testing::TestParamInfo<ActivationQuant>& param_info) {
                           return std::string(activation_quant_name(param_info.param));
                         });

TEST(ForwardBackwardTest, AccumulatesScaledGradients) {
  const ModelParams layout = ModelParams::zeros(grad_check_config());
  const std::vector<double> values = grad_check_values(layout, 9);
  ModelParams params = layout;
  params.values.assign(values.begin(), values.end());
  const auto tokens = random_tokens(3 * 7, 23, 10);
  auto workspace = make_train_workspace();

  ModelParams once = ModelParams::zeros(layout.config);
  const double loss = forward_backward(params, tokens, 3, 7, &once, *workspace);
  ModelParams twice = ModelParams::zeros(layout.config);
  EXPECT_EQ(forward_backward(params, tokens, 3, 7, &twice, *workspace, 0.5f), loss);
  EXPECT_EQ(forward_backward(params, tokens, 3, 7, &twice, *workspace, 0.5f), loss);
  // Without grads: the same loss, nothing written.
  EXPECT_EQ(forward_backward(params, tokens, 3, 7, nullptr, *workspace), loss);
  std::vector<double> reference(once.values.begin(), once.values.end());
  EXPECT_LT(max_relative_difference(twice.values, reference), 1e-6);
}

// Each sequence starts from S_0 = 0: a batch is the mean of its sequences.
TEST(ForwardBackwardTest, SequencesInABatchAreIndependent) {
  const ModelParams layout = ModelParams::zeros(grad_check_config());
  const std::vector<double> values = grad_check_values(layout, 11);
  const auto tokens = random_tokens(2 * 8, 23, 12);
  auto workspace = make_train_workspace();
  std::vector<double> batch_grads(values.size(), 0.0), single_grads(values.size(), 0.0);
  const double batch_loss =
      run(layout, values, tokens, 2, 8, &batch_grads, QuantizeMode::ste, *workspace);
  double single_sum = 0;
  for (int b = 0; b < 2; ++b) {
    const std::vector<int32_t> one(tokens.begin() + b * 8, tokens.begin() + (b + 1) * 8);
    single_sum += run(layout, values, one, 1, 8, &single_grads, QuantizeMode::ste, *workspace, 0.5);
  }
  EXPECT_NEAR(batch_loss, single_sum / 2, 1e-13);
  EXPECT_LT(max_relative_difference(batch_grads, single_grads), 1e-12);
}

// A workspace sized for one shape serves others, and gives what a fresh one gives.
TEST(ForwardBackwardTest, WorkspaceReuseAcrossShapes) {
  const ModelParams layout = ModelParams::zeros(grad_check_config(ActivationQuant::int8));
  const std::vector<double> values = grad_check_values(layout, 13);
  ModelParams params = layout;
  params.values.assign(values.begin(), values.end());
  auto shared = make_train_workspace();
  for (auto [batch, seq_len] : {std::pair<int64_t, int64_t>{4, 9}, {1, 3}, {2, 17}, {4, 9}}) {
    const auto tokens = random_tokens(static_cast<size_t>(batch * seq_len), 23, 14 + batch);
    ModelParams a = ModelParams::zeros(layout.config), b = ModelParams::zeros(layout.config);
    auto fresh = make_train_workspace();
    EXPECT_EQ(forward_backward(params, tokens, batch, seq_len, &a, *shared),
              forward_backward(params, tokens, batch, seq_len, &b, *fresh));
    EXPECT_EQ(a.values, b.values);
  }
  const size_t bytes = shared->n_bytes();
  const auto tokens = random_tokens(36, 23, 15);
  ModelParams g = ModelParams::zeros(layout.config);
  forward_backward(params, tokens, 4, 9, &g, *shared);
  EXPECT_EQ(shared->n_bytes(), bytes);  // no growth for a shape seen before
}

TEST(ForwardBackwardTest, BadInputsAreClearErrors) {
  const ModelParams params = ModelParams::zeros(grad_check_config());
  auto workspace = make_train_workspace();
  const std::vector<int32_t> tokens = {1, 2, 3, 4, 5, 6};
  testing::expect_error([&] { forward_backward(params, tokens, 2, 4, nullptr, *workspace); },
                        {"2 x 4", "8 tokens", "got 6"});
  testing::expect_error([&] { forward_backward(params, tokens, 6, 1, nullptr, *workspace); },
                        {"at least 2 tokens"});
  const std::vector<int32_t> bad = {1, 2, 23, 4};
  testing::expect_error([&] { forward_backward(params, bad, 2, 2, nullptr, *workspace); },
                        {"token id 23", "[0, 23)"});
  BitLlamaConfig other = grad_check_config();
  other.hidden_dim = 12;
  ModelParams wrong = ModelParams::zeros(other);
  testing::expect_error([&] { forward_backward(params, tokens, 2, 3, &wrong, *workspace); },
                        {"gradient buffer", "D=12"});
}

}  // namespace
}  // namespace bit_ttt
