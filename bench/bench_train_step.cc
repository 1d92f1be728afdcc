// Training-step throughput: forward_backward over a batch of random tokens on a
// random-weight model, printed as one JSON line per thread count.
//   bench_train_step [--config FILE] [--threads 1,2] [--batch 16] [--seq-len 128]
//                    [--steps 3] [--mode none|int8] [--phases] [--device cpu|cuda]
// Default config: the seed default (V 16384, D 256, 8 layers, I 1024, d 64).
// FLOPs are counted as 6 × (matmul parameters) per token (forward 2, backward 4),
// against the 2-core machine's ~230 GFLOP/s float peak. --phases adds the time of
// each phase of the step (per-op timers; no perf on this machine).
// --device cuda adds one line for the GPU (TrainDevice: forward/backward, gradient
// norm and AdamW on the device, timed over all steps since the GPU runs ahead of
// the host), after the CPU lines of the same run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "bit_ttt/config.h"
#include "core/thread_pool.h"
#include "train/blas_core.h"
#include "train/forward_backward.h"
#include "train/params.h"
#include "train/train_device.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kPeakGflops = 230.0;

}  // namespace

int main(int argc, char** argv) {
  bit_ttt::rerun_with_fast_blas_if_needed(argv);
  std::string config_path, mode = "none";
  std::vector<int> thread_counts = {1, 2};
  int64_t batch = 16, seq_len = 128;
  int steps = 3;
  bool phases = false;
  std::string device = "cpu";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--config")
      config_path = next();
    else if (arg == "--threads")
      thread_counts = bit_ttt::bench::parse_int_list(next());
    else if (arg == "--batch")
      batch = std::stoll(next());
    else if (arg == "--seq-len")
      seq_len = std::stoll(next());
    else if (arg == "--steps")
      steps = std::max(1, std::stoi(next()));
    else if (arg == "--mode")
      mode = next();
    else if (arg == "--phases")
      phases = true;
    else if (arg == "--device")
      device = next();
    else {
      std::fprintf(
          stderr,
          "usage: bench_train_step [--config FILE] [--threads 1,2] [--batch 16] "
          "[--seq-len 128] [--steps 3] [--mode none|int8] [--phases] [--device cpu|cuda]\n");
      return 2;
    }
  }

  using namespace bit_ttt;
  BitLlamaConfig config =
      config_path.empty() ? BitLlamaConfig(16384, 256, 8, 0.1f) : BitLlamaConfig::load(config_path);
  config.activation_quant = parse_activation_quant(mode);
  config.finalize();

  // Weights as `bit_llama init` makes them: matrices N(0, 0.02), norm weights 1.
  ModelParams params = ModelParams::zeros(config);
  std::mt19937_64 engine(1);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (const ParamEntry& entry : params.entries)
    for (size_t i = 0; i < entry.count; ++i)
      params.values[entry.offset + i] = entry.is_matrix ? normal(engine) : 1.0f;
  ModelParams grads = ModelParams::zeros(config);
  std::vector<int32_t> tokens(static_cast<size_t>(batch * seq_len));
  for (int32_t& token : tokens)
    token = static_cast<int32_t>(engine() % static_cast<uint64_t>(config.vocab_size));

  const int64_t D = config.hidden_dim, I = config.intermediate_dim, d = config.ttt_dim;
  const double matmul_params =
      static_cast<double>(config.num_layers * (2 * d * D + 3 * I * D) + config.vocab_size * D);
  const double flops_per_token = 6.0 * matmul_params;

  for (int threads : thread_counts) {
    set_default_thread_count(threads);
    auto workspace = make_train_workspace();
    forward_backward(params, tokens, batch, seq_len, &grads, *workspace);  // warm-up, sizing
    double best = 1e30, total = 0;
    std::vector<std::pair<std::string, double>> best_phases;
    double loss = 0;
    for (int step = 0; step < steps; ++step) {
      const auto start = Clock::now();
      loss = forward_backward(params, tokens, batch, seq_len, &grads, *workspace);
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      total += seconds;
      if (seconds < best) {
        best = seconds;
        best_phases = workspace->last_timings();
      }
    }
    const double tokens_per_s = static_cast<double>(batch * seq_len) / best;
    const double gflops = tokens_per_s * flops_per_token / 1e9;
    nlohmann::ordered_json line = {
        {"bench", "train_step"},
        {"device", "cpu"},
        {"tokens_per_s", std::round(tokens_per_s * 10) / 10},
        {"threads", threads},
        {"gflops_per_s", std::round(gflops * 10) / 10},
        {"mfu_vs_230gflops", std::round(gflops / kPeakGflops * 1000) / 1000},
        {"step_s_best", best},
        {"step_s_mean", total / steps},
        {"batch", batch},
        {"seq_len", seq_len},
        {"mode", mode},
        {"model", config.shape_string()},
        {"loss", loss},
        {"workspace_mb", std::round(workspace->n_bytes() / 1e5) / 10}};
    if (phases) {
      nlohmann::ordered_json by_phase = nlohmann::ordered_json::object();
      for (const auto& [name, seconds] : best_phases)
        by_phase[name] = std::round(seconds * 1e5) / 1e2;  // ms
      line["phases_ms"] = by_phase;
    }
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  if (device != "cuda") return 0;

  try {
    AdamWState optimizer = make_adamw_state(params);
    auto gpu = make_train_device(Device::cuda, params, optimizer);
    const AdamWConfig adamw{0.9, 0.95, 1e-8, 0.1};
    auto train_step = [&] {
      gpu->zero_grads();
      const double step_loss = gpu->forward_backward(tokens, batch, seq_len, 1.0f);
      gpu->clip_gradients(1.0);  // waits for the forward/backward
      gpu->adamw_step(adamw, 1e-4);
      return step_loss;
    };
    train_step();              // warm-up, sizing
    gpu->clip_gradients(0.0);  // waits for the optimizer
    const auto start = Clock::now();
    double loss = 0;
    for (int step = 0; step < steps; ++step) loss = train_step();
    gpu->clip_gradients(0.0);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count() / steps;
    const double tokens_per_s = static_cast<double>(batch * seq_len) / seconds;
    nlohmann::ordered_json line = {
        {"bench", "train_step"},
        {"device", gpu->description()},
        {"tokens_per_s", std::round(tokens_per_s * 10) / 10},
        {"gflops_per_s", std::round(tokens_per_s * flops_per_token / 1e8) / 10},
        {"step_s_mean", seconds},
        {"includes_optimizer", true},
        {"batch", batch},
        {"seq_len", seq_len},
        {"mode", mode},
        {"model", config.shape_string()},
        {"loss", loss}};
    std::printf("%s\n", line.dump().c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return 0;
}
