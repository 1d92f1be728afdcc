// Decode / prefill throughput of a random-weight model, printed as JSON lines.
//   bench_decode [--config FILE] [--threads 1,2] [--decode-tokens N] [--prompt-tokens N] [--mode none|int8]
// Default config: the seed default (V 16384, D 256, 8 layers, I 1024). The
// baseline in the same run is the machine's measured memory bandwidth: decode
// must stream every weight once per token, so bytes/token ÷ bandwidth is the
// fastest decode this weight format allows (roofline fraction).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench_util.h"
#include "bit_ttt/config.h"
#include "bit_ttt/model.h"
#include "core/thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;
using bit_ttt::bench::seconds_since;

// Best-of-5 memcpy bandwidth over a buffer far larger than the caches (GB/s, read + write counted as read).
double measure_bandwidth_gb_per_s() {
  const size_t n_bytes = 256u << 20;
  std::vector<char> source(n_bytes, 1), destination(n_bytes, 0);
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    std::memcpy(destination.data(), source.data(), n_bytes);
    const double seconds = seconds_since(start);
    best = std::max(best, 2.0 * n_bytes / seconds / 1e9);
  }
  if (destination[n_bytes / 2] != 1) std::abort();
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::vector<int> thread_counts = {1, 2};
  int decode_tokens = 256, prompt_tokens = 512;
  std::string mode = "none";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--config") config_path = next();
    else if (arg == "--decode-tokens") decode_tokens = std::stoi(next());
    else if (arg == "--prompt-tokens") prompt_tokens = std::stoi(next());
    else if (arg == "--mode") mode = next();
    else if (arg == "--threads") {
      thread_counts = bit_ttt::bench::parse_int_list(next());
    } else {
      std::fprintf(stderr, "usage: bench_decode [--config FILE] [--threads 1,2] [--decode-tokens N] "
                           "[--prompt-tokens N] [--mode none|int8]\n");
      return 2;
    }
  }

  using namespace bit_ttt;
  BitLlamaConfig config = config_path.empty() ? BitLlamaConfig(16384, 256, 8, 0.1f)
                                              : BitLlamaConfig::load(config_path);
  config.activation_quant = parse_activation_quant(mode);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("bit_ttt_bench_" + std::to_string(getpid()));
  write_random_model(config, 1, dir);
  const double bandwidth = measure_bandwidth_gb_per_s();

  // Bytes a decode step must read: int8 ternary codes (this build's layout),
  // f32 head and the embedding row.
  const int64_t D = config.hidden_dim, I = config.intermediate_dim, d = config.ttt_dim;
  const double ternary_params = static_cast<double>(config.num_layers) * (2 * d * D + 3 * I * D);
  const double bytes_per_token = ternary_params * 1.0 + config.vocab_size * D * 4.0 + D * 4.0;

  for (int n_threads : thread_counts) {
    LoadOptions options;
    options.n_threads = n_threads;
    const BitLlama model = BitLlama::load(dir, options);

    std::vector<int32_t> prompt(static_cast<size_t>(prompt_tokens));
    for (int i = 0; i < prompt_tokens; ++i) prompt[i] = (i * 7919) % config.vocab_size;
    std::vector<float> logits(static_cast<size_t>(config.vocab_size));

    // Prefill (batched), best of 3.
    double prefill_seconds = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      TttState state = model.new_state();
      const auto start = Clock::now();
      model.forward(prompt, state, logits, LogitsMode::last);
      prefill_seconds = std::min(prefill_seconds, seconds_since(start));
    }
    // Time to first token: a 32-token prompt's prefill.
    double ttft_seconds = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
      TttState state = model.new_state();
      const auto start = Clock::now();
      model.forward(std::span<const int32_t>(prompt.data(), 32), state, logits, LogitsMode::last);
      ttft_seconds = std::min(ttft_seconds, seconds_since(start));
    }
    // Decode: one token at a time (argmax feedback), best of 3.
    double decode_seconds = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      TttState state = model.new_state();
      int32_t token = 1;
      const auto start = Clock::now();
      for (int i = 0; i < decode_tokens; ++i) {
        model.forward(std::span<const int32_t>(&token, 1), state, logits, LogitsMode::last);
        token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      }
      decode_seconds = std::min(decode_seconds, seconds_since(start));
    }
    const double decode_rate = decode_tokens / decode_seconds;
    const double roofline_rate = bandwidth * 1e9 / bytes_per_token;
    nlohmann::json result = {
        {"bench", "decode"},
        {"config", config.shape_string()},
        {"activation_quant", mode},
        {"parameters", config.n_parameters()},
        {"threads", n_threads},
        {"decode_tokens_per_s", decode_rate},
        {"prefill_tokens_per_s", prompt_tokens / prefill_seconds},
        {"prompt_tokens", prompt_tokens},
        {"ttft_ms_prompt32", ttft_seconds * 1e3},
        {"bytes_per_token", bytes_per_token},
        {"memory_bandwidth_gb_per_s", bandwidth},
        {"roofline_tokens_per_s", roofline_rate},
        {"roofline_fraction", decode_rate / roofline_rate},
    };
    std::printf("%s\n", result.dump().c_str());
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
