// Sampling on the GPU (Backend::sample, kernels/cuda/sampling_cuda.cu) against the
// CPU Sampler: the same token for the same logits, history and seed, over every
// stage of the pipeline; and generate() with the head on the GPU, where only the
// chosen ids come back, against the same loop sampling downloaded logits on the
// host. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "bit_ttt/error.h"
#include "bit_ttt/generate.h"
#include "bit_ttt/sampler.h"
#include "bit_ttt/tokenizer.h"
#include "cuda_test_util.h"
#include "sampling/penalties.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::parity_config;
using testing::TempDir;

// The GPU's choice for one position: the same random number the CPU sampler of
// the same seed draws, the same validated penalty window.
int32_t gpu_sample(const std::vector<float>& logits, const std::vector<int32_t>& history,
                   const SamplingParams& params, int32_t n_allowed) {
  Backend& gpu = backend_for(Device::cuda);
  const Tensor host(DType::f32, {1, static_cast<int64_t>(logits.size())}, Device::cpu,
                    const_cast<float*>(logits.data()), nullptr);
  const Tensor on_gpu = gpu.upload(host);
  Sampler random_source(params);
  const std::span<const int32_t> window =
      penalty_window(history, penalty_params(params), static_cast<int64_t>(logits.size()));
  return gpu.sample(on_gpu, params, window, n_allowed, random_source.next_uniform());
}

std::vector<float> random_logits(std::mt19937_64& rng, int64_t n, float scale) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> logits(static_cast<size_t>(n));
  for (float& x : logits) x = normal(rng);
  return logits;
}

TEST(CudaSampling, EveryStageChoosesTheCpusToken) {
  SKIP_WITHOUT_GPU();
  std::mt19937_64 rng(2026);
  const SamplingParams defaults;
  int n_cases = 0, n_mismatches = 0;
  for (const int64_t n_vocab : {1, 2, 7, 300, 4097, 16384, 50000}) {
    const int n_seeds = n_vocab > 5000 ? 6 : 20;
    for (const float temperature : {0.0f, 1e-3f, 0.8f, 1.5f}) {
      for (const int top_k : {0, 1, 3, 40}) {
        for (const float top_p : {1.0f, 0.9f, 0.3f}) {
          for (const float min_p : {0.0f, 0.05f}) {
            for (int seed = 0; seed < n_seeds; ++seed) {
              SamplingParams params = defaults;
              params.temperature = temperature;
              params.top_k = top_k;
              params.top_p = top_p;
              params.min_p = min_p;
              params.seed = static_cast<uint64_t>(seed * 7919 + n_cases);
              if (seed % 3 == 1) params.repetition_penalty = 1.3f;
              if (seed % 3 == 2) {
                params.frequency_penalty = 0.5f;
                params.presence_penalty = -0.2f;
                params.repeat_last_n = -1;
              }
              std::vector<float> logits = random_logits(rng, n_vocab, seed % 2 ? 6.0f : 1.0f);
              if (seed % 5 == 0 && n_vocab > 2) {  // ties, −0 against +0, NaN, ±inf
                logits[0] = logits[1] = 0.0f;
                logits[1] = -0.0f;
                logits[n_vocab - 1] = std::numeric_limits<float>::quiet_NaN();
                if (seed % 10 == 0) logits[n_vocab / 2] = std::numeric_limits<float>::infinity();
                logits[n_vocab - 2] = -std::numeric_limits<float>::infinity();
              }
              std::vector<int32_t> history;
              for (int i = 0; i < 80; ++i)
                history.push_back(static_cast<int32_t>(rng() % static_cast<uint64_t>(n_vocab)));
              const int32_t n_allowed =
                  seed % 4 == 3 ? static_cast<int32_t>((n_vocab + 1) / 2) : -1;
              Sampler cpu(params);
              const int32_t want = cpu.sample(logits, history, n_allowed);
              const int32_t got =
                  gpu_sample(logits, history, params,
                             n_allowed == -1 ? static_cast<int32_t>(n_vocab) : n_allowed);
              ++n_cases;
              if (got != want) {
                ++n_mismatches;
                ADD_FAILURE() << "V " << n_vocab << " T " << temperature << " top_k " << top_k
                              << " top_p " << top_p << " min_p " << min_p << " seed " << params.seed
                              << ": cpu " << want << " gpu " << got;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(n_mismatches, 0) << "of " << n_cases << " cases";
}

TEST(CudaSampling, NoFiniteLogitIsMinusOne) {
  SKIP_WITHOUT_GPU();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> logits = {-inf, nan, -inf, 3.0f};
  for (const float temperature : {0.0f, 0.7f}) {
    SamplingParams params;
    params.temperature = temperature;
    EXPECT_EQ(gpu_sample(logits, {}, params, 3), -1);
    EXPECT_EQ(gpu_sample(logits, {}, params, 4), 3);
  }
}

TEST(CudaSampling, APenaltyThatOverflowsIsClampedLikeOnTheCpu) {
  SKIP_WITHOUT_GPU();
  const std::vector<float> logits = {0.0f, std::numeric_limits<float>::infinity(), 1.0f};
  for (const float temperature : {0.0f, 1.0f}) {
    SamplingParams params;
    params.temperature = temperature;
    params.repetition_penalty = 0.8f;
    EXPECT_EQ(gpu_sample(logits, {1}, params, 3), Sampler(params).sample(logits, std::vector<int32_t>{1}, 3));
    EXPECT_EQ(gpu_sample(logits, {1}, params, 3), 1);
  }
}

// The penalties' counts live on the device and must be back at zero after each call,
// or the next call would penalise ids it never saw.
TEST(CudaSampling, PenaltyCountsDoNotLeakIntoTheNextCall) {
  SKIP_WITHOUT_GPU();
  SamplingParams params;
  params.temperature = 0.0f;
  params.repetition_penalty = 100.0f;
  const std::vector<float> logits = {2.0f, 1.0f, 0.5f};
  EXPECT_EQ(gpu_sample(logits, {0, 0, 0}, params, 3), 1);
  EXPECT_EQ(gpu_sample(logits, {}, params, 3), 0);
  EXPECT_EQ(gpu_sample(logits, {2}, params, 3), 0);
}

// generate() with the whole model on the GPU draws on the device; the same loop
// sampling the downloaded logits on the host must choose the same tokens, and the
// memory must end with the logits after the last token.
TEST(CudaSampling, GenerateOnTheGpuMatchesHostSamplingOfTheSameLogits) {
  SKIP_WITHOUT_GPU();
  for (const ActivationQuant mode : {ActivationQuant::none, ActivationQuant::int8}) {
    TempDir dir;
    write_random_model(parity_config(mode), 11, dir.path());
    LoadOptions options;
    options.device = "cuda";
    const BitLlama model = BitLlama::load(dir.path(), options);
    const Tokenizer tokenizer = Tokenizer::from_json_text(byte_level_tokenizer_json({}), "bytes");

    GenerateOptions generate_options;
    generate_options.max_tokens = 40;
    generate_options.stop_at_eos = false;
    generate_options.sampling.temperature = 0.9f;
    generate_options.sampling.top_k = 50;
    generate_options.sampling.top_p = 0.95f;
    generate_options.sampling.repetition_penalty = 1.1f;
    generate_options.sampling.seed = 5;
    LlamaMemory memory = new_memory(model);
    const GenerationResult result = generate(model, tokenizer, memory, "Once", generate_options);
    ASSERT_EQ(result.n_generated_tokens, 40);

    // The same steps by hand: every logit row comes to the host Sampler.
    LlamaMemory by_hand = new_memory(model);
    absorb(model, by_hand, tokenizer.encode("Once", true));
    Sampler sampler(generate_options.sampling);
    for (int step = 0; step < 40; ++step) {
      const int32_t token = sampler.sample(by_hand.last_logits, by_hand.history,
                                           static_cast<int32_t>(tokenizer.vocab_size()));
      absorb(model, by_hand, std::span<const int32_t>(&token, 1));
    }
    EXPECT_EQ(memory.history, by_hand.history) << "mode " << static_cast<int>(mode);
    EXPECT_EQ(memory.last_logits, by_hand.last_logits);
    EXPECT_EQ(memory.n_tokens(), by_hand.n_tokens());
  }
}

}  // namespace
}  // namespace bit_ttt
