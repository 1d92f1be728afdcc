// The TrainDevice seam on the CPU: the trainer's step through it is the step of
// forward_backward + clip_gradients + adamw_step, bit for bit; asking for a GPU
// that is not there is a clear error.
#include <gtest/gtest.h>

#include "backend/backend.h"
#include "test_util.h"
#include "train/adamw.h"
#include "train/forward_backward.h"
#include "train/params.h"
#include "train/train_device.h"
#include "train_test_util.h"

namespace bit_ttt {
namespace {

ModelParams random_params(ActivationQuant mode, uint64_t seed) {
  ModelParams params = ModelParams::zeros(testing::grad_check_config(mode));
  const std::vector<double> values = testing::random_values(params.values.size(), 0.5, seed);
  for (size_t i = 0; i < values.size(); ++i) params.values[i] = static_cast<float>(values[i]);
  return params;
}

TEST(TrainDevice, CpuStepsEqualTheFunctionsTheyWrap) {
  for (ActivationQuant mode : {ActivationQuant::none, ActivationQuant::int8}) {
    ModelParams through_device = random_params(mode, 3);
    AdamWState device_optimizer = make_adamw_state(through_device);
    ModelParams direct = through_device;
    AdamWState direct_optimizer = make_adamw_state(direct);
    ModelParams grads = ModelParams::zeros(direct.config);
    auto workspace = make_train_workspace();
    auto device = make_train_device(Device::cpu, through_device, device_optimizer);
    const AdamWConfig config{0.9, 0.95, 1e-8, 0.1};

    for (int step = 0; step < 3; ++step) {
      const auto tokens = testing::random_tokens(3 * 6, 23, 10 + step);
      device->zero_grads();
      std::fill(grads.values.begin(), grads.values.end(), 0.0f);
      // Two micro-batches of half weight, as gradient accumulation runs them.
      for (int micro = 0; micro < 2; ++micro) {
        EXPECT_EQ(device->forward_backward(tokens, 3, 6, 0.5f),
                  forward_backward(direct, tokens, 3, 6, &grads, *workspace, 0.5f));
      }
      ModelParams device_grads = ModelParams::zeros(direct.config);
      device->copy_grads_to(device_grads);
      EXPECT_EQ(device_grads.values, grads.values);
      EXPECT_EQ(device->clip_gradients(0.05), clip_gradients(grads, 0.05));
      device->adamw_step(config, 1e-2);
      adamw_step(direct, grads, direct_optimizer, config, 1e-2);
      EXPECT_EQ(device->loss(tokens, 3, 6),
                forward_backward(direct, tokens, 3, 6, nullptr, *workspace));
    }
    device->sync_to_host();
    EXPECT_EQ(through_device.values, direct.values);
    EXPECT_EQ(device_optimizer.exp_avg, direct_optimizer.exp_avg);
    EXPECT_EQ(device_optimizer.exp_avg_sq, direct_optimizer.exp_avg_sq);
    EXPECT_EQ(device_optimizer.step, 3);
  }
}

TEST(TrainDevice, CudaWithoutAGpuIsAClearError) {
  if (device_available(Device::cuda)) GTEST_SKIP() << "a GPU is present (tests/cuda trains on it)";
  ModelParams params = random_params(ActivationQuant::none, 1);
  AdamWState optimizer = make_adamw_state(params);
  testing::expect_error([&] { make_train_device(Device::cuda, params, optimizer); },
                        {"cannot train on cuda", "--device cpu"});
}

}  // namespace
}  // namespace bit_ttt
