// Whole models on the GPU against the CPU: logits in both activation modes, every
// hybrid placement (n_gpu_layers 0, 1, all), streaming == batched, state copies,
// .bitt heads of every dtype. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "backend/backend.h"
#include "bit_ttt/model.h"
#include "cuda_test_util.h"
#include "test_util.h"

namespace bit_ttt {
using testing::TempDir;
namespace {

using testing::parity_config;
using testing::relative_error;

std::vector<int32_t> tokens(int64_t n, int64_t vocab) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 37 + 11) % vocab));
  return ids;
}

LoadOptions on_gpu(int64_t n_gpu_layers) {
  LoadOptions options;
  options.device = "cuda";
  options.n_gpu_layers = n_gpu_layers;
  return options;
}

// int8 mode: a float reduction ordered differently (RMSNorm, the TTT scan) can move
// an activation across a rounding boundary of the int8 quantization, so whole-model
// logits are compared at the spec tolerance of that mode.
double logits_tolerance(ActivationQuant mode) {
  return mode == ActivationQuant::int8 ? 2e-2 : 1e-4;
}

TEST(CudaModel, LogitsMatchTheCpuForEveryPlacementAndMode) {
  SKIP_WITHOUT_GPU();
  for (ActivationQuant mode : {ActivationQuant::none, ActivationQuant::int8}) {
    const BitLlamaConfig config = parity_config(mode);
    TempDir dir;
    write_random_model(config, 3, dir.path());
    const std::vector<int32_t> ids = tokens(300, config.vocab_size);  // two prefill chunks
    const BitLlama cpu_model = BitLlama::load(dir.path());
    TttState cpu_state = cpu_model.new_state();
    const std::vector<float> want = cpu_model.forward(ids, cpu_state);
    for (int64_t n : {0, 1, 3}) {
      const BitLlama model = BitLlama::load(dir.path(), on_gpu(n));
      TttState state = model.new_state();
      const std::vector<float> got = model.forward(ids, state);
      EXPECT_LE(relative_error(got, want), logits_tolerance(mode))
          << "n_gpu_layers " << n << " " << model.placement_summary();
      EXPECT_EQ(state.n_tokens(), 300);
      for (int64_t layer = 0; layer < config.num_layers; ++layer)
        EXPECT_LE(relative_error(state.layer_to_host(layer), cpu_state.layer_to_host(layer)),
                  logits_tolerance(mode))
            << "state layer " << layer << " n_gpu_layers " << n;
    }
  }
}

TEST(CudaModel, PlacementSummaryNamesTheDevices) {
  SKIP_WITHOUT_GPU();
  TempDir dir;
  write_random_model(parity_config(ActivationQuant::int8), 3, dir.path());
  EXPECT_EQ(BitLlama::load(dir.path(), on_gpu(1)).placement_summary(),
            "embed:cuda blocks 0-0:cuda blocks 1-2:cpu head:cpu");
  EXPECT_EQ(BitLlama::load(dir.path(), on_gpu(3)).placement_summary(),
            "embed:cuda blocks 0-2:cuda head:cuda");
}

TEST(CudaModel, StreamingEqualsBatchedOnTheGpu) {
  SKIP_WITHOUT_GPU();
  const BitLlamaConfig config = parity_config(ActivationQuant::int8);
  TempDir dir;
  write_random_model(config, 4, dir.path());
  const BitLlama model = BitLlama::load(dir.path(), on_gpu(3));
  const std::vector<int32_t> ids = tokens(40, config.vocab_size);
  TttState batched_state = model.new_state();
  const std::vector<float> batched = model.forward(ids, batched_state);
  TttState streaming_state = model.new_state();
  std::vector<float> streaming;
  for (int32_t id : ids) {
    const std::vector<float> step = model.forward(std::span(&id, 1), streaming_state);
    streaming.insert(streaming.end(), step.begin(), step.end());
  }
  // The int8 paths are exact; only the f32 head (kernel for 1 row, cuBLAS for 40)
  // sums in another order.
  EXPECT_LE(relative_error(streaming, batched), 1e-5);
  EXPECT_EQ(streaming_state.layer_to_host(2), batched_state.layer_to_host(2));
}

// Decode steps (one token, last logits) replay a recorded CUDA graph; one-token
// steps with all logits run op by op. Both must give the same bits, also after
// what invalidates a recording: a long prefill (scratch moves), reset() (new
// state tensors) and a copied state.
TEST(CudaModel, RecordedDecodeStepEqualsOpByOp) {
  SKIP_WITHOUT_GPU();
  for (ActivationQuant mode : {ActivationQuant::int8, ActivationQuant::none}) {
    const BitLlamaConfig config = parity_config(mode);
    TempDir dir;
    write_random_model(config, 8, dir.path());
    const BitLlama model = BitLlama::load(dir.path(), on_gpu(3));
    TttState recorded = model.new_state(), eager = model.new_state();
    const std::vector<int32_t> ids = tokens(12, config.vocab_size);
    const std::vector<int32_t> long_prompt = tokens(270, config.vocab_size);
    auto step_both = [&](int32_t id, const char* when) {
      const std::vector<float> a = model.forward(std::span(&id, 1), recorded, LogitsMode::last);
      const std::vector<float> b = model.forward(std::span(&id, 1), eager, LogitsMode::all);
      ASSERT_EQ(a, b) << when;
    };
    for (int32_t id : ids) step_both(id, "first steps");
    model.forward(long_prompt, recorded, LogitsMode::last);
    model.forward(long_prompt, eager, LogitsMode::last);
    for (int32_t id : ids) step_both(id, "after a long prefill");
    TttState fork = recorded;
    recorded.reset();
    eager.reset();
    for (int32_t id : ids) step_both(id, "after reset");
    EXPECT_EQ(recorded.n_tokens(), static_cast<int64_t>(ids.size()));
    for (int64_t layer = 0; layer < config.num_layers; ++layer)
      EXPECT_EQ(recorded.layer_to_host(layer), eager.layer_to_host(layer));
    const int32_t id = ids[0];
    const std::vector<float> from_fork = model.forward(std::span(&id, 1), fork, LogitsMode::last);
    EXPECT_EQ(fork.n_tokens(), static_cast<int64_t>(2 * ids.size() + long_prompt.size() + 1));
    EXPECT_EQ(from_fork.size(), static_cast<size_t>(config.vocab_size));
  }
}

TEST(CudaModel, StateCopyResetAndHostRoundTrip) {
  SKIP_WITHOUT_GPU();
  const BitLlamaConfig config = parity_config(ActivationQuant::int8);
  TempDir dir;
  write_random_model(config, 5, dir.path());
  const BitLlama model = BitLlama::load(dir.path(), on_gpu(3));
  const std::vector<int32_t> ids = tokens(20, config.vocab_size);
  TttState state = model.new_state();
  model.forward(ids, state);
  TttState fork = state;  // a fork continues exactly like the original
  const std::vector<float> a = model.forward(ids, state, LogitsMode::last);
  const std::vector<float> b = model.forward(ids, fork, LogitsMode::last);
  EXPECT_EQ(a, b);
  const std::vector<float> layer = state.layer_to_host(1);
  fork.layer_from_host(1, layer);
  EXPECT_EQ(fork.layer_to_host(1), layer);
  state.reset();
  EXPECT_EQ(state.n_tokens(), 0);
  for (float v : state.layer_to_host(0)) ASSERT_EQ(v, 0.0f);
  // Saved on the GPU, loaded on the CPU: the same memory.
  model.save_state(fork, dir / "state.safetensors");
  const BitLlama cpu_model = BitLlama::load(dir.path());
  EXPECT_EQ(cpu_model.load_state(dir / "state.safetensors").layer_to_host(1), layer);
}

TEST(CudaModel, BittHeadsOfEveryDtype) {
  SKIP_WITHOUT_GPU();
  const BitLlamaConfig config = parity_config(ActivationQuant::int8);
  TempDir dir;
  write_random_model(config, 6, dir.path());
  const std::vector<int32_t> ids = tokens(24, config.vocab_size);
  for (const char* dtype : {"f32", "f16", "bf16", "int8"})
    for (const char* ternary : {"2bit", "1.6bit"}) {
      const std::filesystem::path file = dir / (std::string(dtype) + ternary + ".bitt");
      export_bitt(dir.path(), file, {ternary, dtype, dtype});
      const BitLlama cpu_model = BitLlama::load(file);
      const BitLlama gpu_model = BitLlama::load(file, on_gpu(3));
      TttState cpu_state = cpu_model.new_state(), gpu_state = gpu_model.new_state();
      const std::vector<float> want = cpu_model.forward(ids, cpu_state);
      const std::vector<float> got = gpu_model.forward(ids, gpu_state);
      EXPECT_LE(relative_error(got, want), 2e-2) << dtype << " " << ternary;
    }
}

TEST(CudaModel, AutoPlanFitsABudget) {
  SKIP_WITHOUT_GPU();
  const BitLlamaConfig config = parity_config(ActivationQuant::int8);
  TempDir dir;
  write_random_model(config, 7, dir.path());
  LoadOptions options;
  options.device = "cuda";
  options.n_gpu_layers = kAutoGpuLayers;
  EXPECT_EQ(BitLlama::load(dir.path(), options).placement_summary(),
            "embed:cuda blocks 0-2:cuda head:cuda");
  options.gpu_mem_limit = 1 << 20;  // 1 MiB: not even the reserve fits
  EXPECT_EQ(BitLlama::load(dir.path(), options).placement_summary(),
            "embed:cpu blocks 0-2:cpu head:cpu");
}

}  // namespace
}  // namespace bit_ttt
