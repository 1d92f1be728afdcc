// The hybrid placement plan (model/placement.cc): what each part costs on the GPU,
// how many blocks fit a budget, and the errors and fallbacks without a GPU. Runs
// on every machine: the planner is plain arithmetic over the config.
#include <gtest/gtest.h>

#include "backend/backend.h"
#include "model/model_test_util.h"
#include "model/weights.h"

namespace bit_ttt {
namespace {

TEST(Placement, CostsCountPackedWeightsAndDtypes) {
  const BitLlamaConfig c = testing::tiny_config();  // V 97, D 32, I 48, d 8, 3 layers
  const GpuPlacementCosts f32 = gpu_placement_costs(c, DenseDType::f32, DenseDType::f32);
  // i2 rows are whole 256-weight blocks of 64 bytes: every row here is one block.
  EXPECT_EQ(f32.per_block, (8 + 32 + 48 + 48 + 32) * 64 + 2 * 32 * 4 + 8 * 8 * 4);
  EXPECT_EQ(f32.embed, 97 * 32 * 4);
  EXPECT_EQ(f32.head, 32 * 4 + 97 * 32 * 4);
  const GpuPlacementCosts int8 = gpu_placement_costs(c, DenseDType::f16, DenseDType::i8_row);
  EXPECT_EQ(int8.embed, 97 * 32 * 2);
  EXPECT_EQ(int8.head, 32 * 4 + 97 * 32 + 97 * 4);
}

TEST(Placement, PlansTheMostBlocksThatFit) {
  const BitLlamaConfig c = testing::tiny_config();
  const GpuPlacementCosts costs = gpu_placement_costs(c, DenseDType::f32, DenseDType::f32);
  const int64_t all = gpu_bytes_for_layers(c, costs, 3);
  EXPECT_EQ(gpu_bytes_for_layers(c, costs, 0), 0);
  EXPECT_EQ(all, costs.embed + 3 * costs.per_block + costs.workspace + costs.reserve + costs.head +
                     costs.logits);
  EXPECT_EQ(plan_gpu_layers(c, costs, all), 3);
  EXPECT_EQ(plan_gpu_layers(c, costs, all - 1), 2);  // the head and logits go to the CPU
  EXPECT_EQ(plan_gpu_layers(c, costs, gpu_bytes_for_layers(c, costs, 1)), 1);
  EXPECT_EQ(plan_gpu_layers(c, costs, gpu_bytes_for_layers(c, costs, 1) - 1), 0);
  EXPECT_EQ(plan_gpu_layers(c, costs, 0), 0);
}

TEST(Placement, ExplicitCountsAndTheirErrors) {
  const BitLlamaConfig c = testing::tiny_config();
  PlacementRequest cpu;
  EXPECT_EQ(plan_block_devices(c, cpu), std::vector<Device>(3, Device::cpu));
  cpu.n_gpu_layers = 2;
  EXPECT_THROW(plan_block_devices(c, cpu), std::exception);  // needs device cuda
  PlacementRequest none;
  none.device = Device::cuda;
  none.n_gpu_layers = 0;
  EXPECT_EQ(plan_block_devices(c, none), std::vector<Device>(3, Device::cpu));
  PlacementRequest too_many = none;
  too_many.n_gpu_layers = 4;
  EXPECT_THROW(plan_block_devices(c, too_many), std::exception);
  PlacementRequest negative_limit = none;
  negative_limit.gpu_mem_limit = -1;
  EXPECT_THROW(plan_block_devices(c, negative_limit), std::exception);
}

TEST(Placement, WithoutAGpuExplicitBlocksFailClearlyAndAutoFallsBack) {
  if (device_available(Device::cuda)) GTEST_SKIP() << "this machine has a GPU";
  const BitLlamaConfig c = testing::tiny_config();
  PlacementRequest request;
  request.device = Device::cuda;
  request.n_gpu_layers = 2;
  try {
    plan_block_devices(c, request);
    FAIL() << "expected an error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find(device_unavailable_reason(Device::cuda)),
              std::string::npos)
        << error.what();
  }
  request.n_gpu_layers = kAutoGpuLayers;  // "auto" by name: the CPU, with a warning
  EXPECT_EQ(plan_block_devices(c, request), std::vector<Device>(3, Device::cpu));
  request.n_gpu_layers.reset();  // only device cuda: the user asked for a GPU
  EXPECT_THROW(plan_block_devices(c, request), std::exception);
}

}  // namespace
}  // namespace bit_ttt
