// Training on the GPU against the CPU: the loss, the gradients of a tiny model
// (both activation modes), AdamW steps, and a whole run whose checkpoint resumes
// on the CPU (the files are the same format). Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda_test_util.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/params.h"
#include "train/train_device.h"
#include "train/train_test_util.h"
#include "train/trainer_test_util.h"

namespace bit_ttt {
namespace {

using testing::parity_config;
using testing::relative_error;

ModelParams random_params(const BitLlamaConfig& config, uint64_t seed) {
  ModelParams params = ModelParams::zeros(config);
  const std::vector<double> values = testing::random_values(params.values.size(), 0.3, seed);
  for (size_t i = 0; i < values.size(); ++i) params.values[i] = static_cast<float>(values[i]);
  for (const ParamEntry& entry : params.entries)
    if (!entry.is_matrix)
      for (size_t i = 0; i < entry.count; ++i) params.values[entry.offset + i] += 1.0f;
  return params;
}

TEST(CudaTrain, LossGradientsAndStepsMatchTheCpu) {
  SKIP_WITHOUT_GPU();
  // int8 activations: a row whose x·127/γ lies on a rounding boundary may round the
  // other way after a differently ordered sum, which moves that row's gradients.
  for (auto [mode, grad_tolerance] :
       {std::pair{ActivationQuant::none, 1e-4}, std::pair{ActivationQuant::int8, 2e-2}}) {
    SCOPED_TRACE(activation_quant_name(mode));
    ModelParams cpu_params = random_params(parity_config(mode), 7);
    ModelParams gpu_params = cpu_params;
    AdamWState cpu_optimizer = make_adamw_state(cpu_params);
    AdamWState gpu_optimizer = make_adamw_state(gpu_params);
    auto cpu = make_train_device(Device::cpu, cpu_params, cpu_optimizer);
    auto gpu = make_train_device(Device::cuda, gpu_params, gpu_optimizer);
    const AdamWConfig config{0.9, 0.95, 1e-8, 0.1};
    ModelParams cpu_grads = ModelParams::zeros(cpu_params.config);
    ModelParams gpu_grads = cpu_grads;
    for (int step = 0; step < 3; ++step) {
      // 3 sequences of 33 tokens, then 1 of 300 (more rows than one head chunk).
      const int64_t batch = step == 2 ? 1 : 3, seq_len = step == 2 ? 300 : 33;
      const auto tokens = testing::random_tokens(static_cast<size_t>(batch * seq_len), 300, step);
      cpu->zero_grads();
      gpu->zero_grads();
      const double cpu_loss = cpu->forward_backward(tokens, batch, seq_len, 1.0f);
      const double gpu_loss = gpu->forward_backward(tokens, batch, seq_len, 1.0f);
      EXPECT_NEAR(gpu_loss, cpu_loss, 1e-4 * std::fabs(cpu_loss)) << "step " << step;
      cpu->copy_grads_to(cpu_grads);
      gpu->copy_grads_to(gpu_grads);
      for (const ParamEntry& entry : cpu_params.entries) {
        const auto first = static_cast<std::ptrdiff_t>(entry.offset);
        const auto last = static_cast<std::ptrdiff_t>(entry.offset + entry.count);
        const std::vector<float> want(cpu_grads.values.begin() + first,
                                      cpu_grads.values.begin() + last);
        const std::vector<float> got(gpu_grads.values.begin() + first,
                                     gpu_grads.values.begin() + last);
        EXPECT_LE(relative_error(got, want), grad_tolerance) << entry.name << ", step " << step;
      }
      const double cpu_norm = cpu->clip_gradients(0.5);
      EXPECT_NEAR(gpu->clip_gradients(0.5), cpu_norm, grad_tolerance * cpu_norm);
      cpu->adamw_step(config, 1e-3);
      gpu->adamw_step(config, 1e-3);
      EXPECT_NEAR(gpu->loss(tokens, batch, seq_len), cpu->loss(tokens, batch, seq_len),
                  1e-3 * std::fabs(cpu_loss));
    }
    cpu->sync_to_host();
    gpu->sync_to_host();
    EXPECT_EQ(gpu_optimizer.step, 3);
    EXPECT_LE(relative_error(gpu_params.values, cpu_params.values), 1e-3);
    EXPECT_LE(relative_error(gpu_optimizer.exp_avg, cpu_optimizer.exp_avg), 10 * grad_tolerance);
  }
}

TEST(CudaTrain, RunOnTheGpuResumesOnTheCpu) {
  SKIP_WITHOUT_GPU();
  testing::TempDir dir;
  testing::prepare_small_corpus(dir);
  TrainOptions on_gpu = testing::small_options(dir, "run");
  on_gpu.device = "cuda";
  on_gpu.stop_at_step = 6;
  const TrainResult first = train(on_gpu);
  ASSERT_EQ(first.final_step, 6);
  ASSERT_TRUE(std::isfinite(first.final_loss));
  const Checkpoint checkpoint = load_checkpoint(first.last_checkpoint);
  EXPECT_EQ(checkpoint.trainer.step, 6);
  EXPECT_EQ(checkpoint.optimizer.step, 6);

  TrainOptions on_cpu = testing::small_options(dir, "run");
  on_cpu.load = first.last_checkpoint;
  const TrainResult second = train(on_cpu);
  EXPECT_EQ(second.final_step, on_cpu.steps);
  EXPECT_TRUE(std::isfinite(second.final_loss));
  EXPECT_LT(second.final_loss, 5.6);  // the byte-level model starts near ln 257 ≈ 5.55
}

}  // namespace
}  // namespace bit_ttt
