// bit_llama bench: decode / prefill / time-to-first-token / memory of a model or
// of a config with random weights, printed as JSON lines (one per measurement)
// with a readable summary on stderr. Benchmarks are run on purpose, never as
// unit tests. Modes:
//   default   decode (greedy; sampled with the logits on the host and, with the head
//             on a GPU, drawn there) + prefill + TTFT + RSS per thread count
//   --memory  RSS after 1K / 10K / 100K generated tokens (flat: no KV cache)
//   --sweep   decode tokens/s over a ladder of model sizes, drawn to --plot PNG
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "backend/backend.h"
#include "bit_ttt/error.h"
#include "commands.h"
#include "common.h"
#include "model/device_sampling.h"

namespace bit_ttt::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Resident set size now and at its peak, in MiB (Linux /proc and getrusage).
double current_rss_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}
double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Configs by name for --config, besides a config.json path.
BitLlamaConfig config_by_name(const std::string& name) {
  if (name == "seed-default") return BitLlamaConfig(16384, 256, 8, 0.1f);
  if (name == "137m") {
    BitLlamaConfig config(32000, 768, 12, 0.1f);
    config.intermediate_dim = 3072;
    config.finalize();
    return config;
  }
  if (std::filesystem::exists(name)) return BitLlamaConfig::load(name);
  fail("--config: '", name, "' is neither a config.json file nor one of seed-default, 137m");
}

// The ladder of --sweep: the seed default scaled down and up to the 137M config.
std::vector<BitLlamaConfig> sweep_configs() {
  std::vector<BitLlamaConfig> configs;
  const int64_t dims[][4] = {// V, D, N, I
                             {8192, 128, 4, 512},
                             {16384, 256, 8, 1024},
                             {32000, 384, 8, 1536},
                             {32000, 512, 8, 2048},
                             {32000, 768, 12, 3072}};
  for (const auto& d : dims) {
    BitLlamaConfig config(d[0], d[1], d[2], 0.1f);
    config.intermediate_dim = d[3];
    config.finalize();
    configs.push_back(config);
  }
  return configs;
}

// A model to benchmark: loaded from --model, or random weights written to a
// temporary directory (removed at exit).
struct BenchModel {
  std::filesystem::path path;
  std::filesystem::path temporary;
  ~BenchModel() {
    if (!temporary.empty()) std::filesystem::remove_all(temporary);
  }
};

// Random weights in a temporary directory; as a .bitt file with `exported`'s
// layouts unless `exported` is null (then the safetensors directory: f32 head).
std::unique_ptr<BenchModel> random_model(const BitLlamaConfig& config, int index,
                                         const ExportOptions* exported) {
  auto model = std::make_unique<BenchModel>();
  model->temporary =
      std::filesystem::temp_directory_path() / concat("bit_llama_bench_", getpid(), "_", index);
  write_random_model(config, 1, model->temporary);
  model->path = model->temporary;
  if (exported) {
    model->path = model->temporary / "model.bitt";
    export_bitt(model->temporary, model->path, *exported);
  }
  return model;
}

// Greedy decode of n tokens (argmax fed back), starting from `state`.
void decode_tokens(const BitLlama& model, TttState& state, int64_t n, std::vector<float>& logits) {
  int32_t token = 1;
  for (int64_t i = 0; i < n; ++i) {
    model.forward(std::span<const int32_t>(&token, 1), state, logits, LogitsMode::last);
    token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
}

// Sampled decode of n tokens (temperature 0.8, top-k 40, top-p 0.95, repetition
// penalty 1.1): the logits come to the host Sampler, or, with on_device, the next
// token is drawn where the head runs and only its id comes back (a GPU head).
void decode_sampled(const BitLlama& model, TttState& state, int64_t n, bool on_device,
                    std::vector<float>& logits) {
  SamplingParams params;
  params.temperature = 0.8f;
  params.top_k = 40;
  params.top_p = 0.95f;
  params.repetition_penalty = 1.1f;
  Sampler sampler(params);
  std::vector<int32_t> history = {1};
  const auto n_vocab = static_cast<int32_t>(model.config().vocab_size);
  for (int64_t i = 0; i < n; ++i) {
    const std::span<const int32_t> token(&history.back(), 1);
    if (on_device) {
      forward_keeping_logits(model, token, state);
      history.push_back(sample_on_device(model, state, sampler, history, n_vocab));
    } else {
      model.forward(token, state, logits, LogitsMode::last);
      history.push_back(sampler.sample(logits, history, n_vocab));
    }
  }
}

struct Settings {
  int decode_tokens = 256;
  int prompt_tokens = 512;
  int repeats = 3;
};

// GPU memory in use now (every process's, as the driver reports it), or null.
nlohmann::json gpu_memory_in_use_mib() {
  const std::optional<DeviceMemoryInfo> memory = device_memory_info(Device::cuda);
  if (!memory) return nullptr;
  return static_cast<double>(memory->total_bytes - memory->free_bytes) / (1024.0 * 1024.0);
}

nlohmann::json bench_speed(const BitLlama& model, int n_threads, const Settings& settings) {
  const BitLlamaConfig& config = model.config();
  std::vector<int32_t> prompt(static_cast<size_t>(settings.prompt_tokens));
  for (size_t i = 0; i < prompt.size(); ++i)
    prompt[i] = static_cast<int32_t>((i * 7919) % static_cast<size_t>(config.vocab_size));
  std::vector<float> logits(static_cast<size_t>(config.vocab_size));
  auto best_of = [&](auto&& run) {
    double best = 1e30;
    for (int rep = 0; rep < settings.repeats; ++rep) {
      TttState state = model.new_state();
      const auto start = Clock::now();
      run(state);
      best = std::min(best, seconds_since(start));
    }
    return best;
  };
  const double prefill =
      best_of([&](TttState& s) { model.forward(prompt, s, logits, LogitsMode::last); });
  const size_t ttft_prompt = std::min<size_t>(32, prompt.size());
  const double ttft = best_of([&](TttState& s) {
    model.forward(std::span<const int32_t>(prompt.data(), ttft_prompt), s, logits,
                  LogitsMode::last);
  });
  const double decode =
      best_of([&](TttState& s) { decode_tokens(model, s, settings.decode_tokens, logits); });
  const double decode_host_sampled = best_of(
      [&](TttState& s) { decode_sampled(model, s, settings.decode_tokens, false, logits); });
  // Drawing on the device only exists where the head's backend samples (a GPU).
  nlohmann::json decode_device_sampled = nullptr;
  if (head_samples(model))
    decode_device_sampled = settings.decode_tokens / best_of([&](TttState& s) {
                              decode_sampled(model, s, settings.decode_tokens, true, logits);
                            });
  const int64_t parameters = config.n_parameters();
  // After the runs: weights, one state's scratch and the logits buffers are allocated.
  const nlohmann::json gpu_memory_mib = model.placement_summary().find("cuda") != std::string::npos
                                            ? gpu_memory_in_use_mib()
                                            : nlohmann::json(nullptr);
  return {{"bench", "speed"},
          {"config", config.shape_string()},
          {"model", model.format_summary()},
          {"activation_quant", activation_quant_name(config.activation_quant)},
          {"parameters", parameters},
          {"weight_bytes", model.weight_bytes()},
          {"bytes_per_parameter", static_cast<double>(model.weight_bytes()) / parameters},
          {"threads", n_threads},
          {"placement", model.placement_summary()},
          {"gpu_memory_mib", gpu_memory_mib},
          {"decode_tokens_per_s", settings.decode_tokens / decode},
          {"decode_host_sampled_tokens_per_s", settings.decode_tokens / decode_host_sampled},
          {"decode_device_sampled_tokens_per_s", decode_device_sampled},
          {"prefill_tokens_per_s", settings.prompt_tokens / prefill},
          {"prompt_tokens", settings.prompt_tokens},
          {"ttft_ms", ttft * 1e3},
          {"ttft_prompt_tokens", ttft_prompt},
          // Peak includes creating a --config model (random f32 weights, export);
          // the RSS after the runs is what the loaded model itself holds.
          {"peak_rss_mib", peak_rss_mib()},
          {"rss_mib", current_rss_mib()}};
}

// RSS after each checkpoint of one long greedy generation.
nlohmann::json bench_memory(const BitLlama& model, const std::vector<int64_t>& checkpoints) {
  std::vector<float> logits(static_cast<size_t>(model.config().vocab_size));
  TttState state = model.new_state();
  nlohmann::json points = nlohmann::json::array();
  int64_t generated = 0;
  const auto start = Clock::now();
  for (int64_t checkpoint : checkpoints) {
    decode_tokens(model, state, checkpoint - generated, logits);
    generated = checkpoint;
    points.push_back({{"tokens", generated}, {"rss_mib", current_rss_mib()}});
    std::fprintf(stderr, "  after %8lld tokens: RSS %.1f MiB (%.0f s)\n",
                 static_cast<long long>(generated), current_rss_mib(), seconds_since(start));
  }
  return {{"bench", "memory_vs_context"},
          {"config", model.config().shape_string()},
          {"points", points},
          {"rss_growth_mib",
           points.back()["rss_mib"].get<double>() - points.front()["rss_mib"].get<double>()}};
}

const char kSweepPlotScript[] = R"PY(
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
results_path, out_path = sys.argv[1], sys.argv[2]
series = {}
for line in open(results_path):
    r = json.loads(line)
    if r.get("bench") != "speed":
        continue
    series.setdefault(r["threads"], []).append((r["parameters"] / 1e6, r["decode_tokens_per_s"], r["config"]))
fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
for threads, points in sorted(series.items()):
    points.sort()
    ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=f"{threads} thread(s)")
    if threads == max(series):
        for p in points:
            ax.annotate(p[2].split(" d=")[0], (p[0], p[1]), fontsize=6, xytext=(3, 3),
                        textcoords="offset points")
ax.set_xscale("log"); ax.set_yscale("log")
ax.set_xlabel("parameters (millions)"); ax.set_ylabel("decode tokens/s")
ax.set_title("Bit-TTT decode speed vs model size (random weights)")
ax.grid(alpha=0.3, which="both"); ax.legend()
fig.tight_layout(); fig.savefig(out_path)
print(f"wrote {out_path}")
)PY";

}  // namespace

CommandRunner add_bench_command(CLI::App& app) {
  struct Options {
    std::string model, config = "seed-default", out, plot, activation_quant;
    std::string ternary = "2bit", head = "f16";
    std::vector<int> threads = {1, 2};
    Settings settings;
    bool memory = false, sweep = false;
    std::vector<int64_t> memory_tokens = {1000, 10000, 100000};
    ModelOptions placement;  // --device, --n-gpu-layers, --gpu-mem-limit
  };
  auto options = std::make_shared<Options>();
  CLI::App* command =
      app.add_subcommand("bench", "measure decode/prefill speed, time to first token and memory");
  command->add_option("--model,-m", options->model, "model directory, .safetensors or .bitt");
  command
      ->add_option("--config", options->config,
                   "random weights of a config: seed-default, 137m or a config.json path")
      ->capture_default_str();
  command
      ->add_option("--ternary", options->ternary, "random models: BitLinear layout (2bit | 1.6bit)")
      ->capture_default_str();
  command
      ->add_option("--head", options->head,
                   "random models: LM head and embedding storage (f32 | f16 | bf16 | int8; "
                   "'safetensors' = the unexported f32 directory)")
      ->capture_default_str();
  command->add_option("--activation-quant", options->activation_quant,
                      "override the config's activation_quant (none | int8)");
  command->add_option("--threads,-t", options->threads, "thread counts to measure")
      ->delimiter(',')
      ->capture_default_str();
  command->add_option("--decode-tokens", options->settings.decode_tokens)->capture_default_str();
  command->add_option("--prompt-tokens", options->settings.prompt_tokens)->capture_default_str();
  command->add_option("--repeats", options->settings.repeats, "best of N")->capture_default_str();
  command->add_flag("--memory", options->memory,
                    "RSS after 1K/10K/100K generated tokens (see --memory-tokens)");
  command->add_option("--memory-tokens", options->memory_tokens)->delimiter(',');
  command->add_flag("--sweep", options->sweep, "decode speed over a ladder of model sizes");
  command->add_option("--plot", options->plot, "PNG of the sweep (with --sweep)");
  command->add_option("--out,-o", options->out, "also append the JSON lines to this file");
  options->placement.add_device_options(*command);

  return [options] {
    const Options& o = *options;
    if (o.settings.decode_tokens < 1 || o.settings.prompt_tokens < 1 || o.settings.repeats < 1)
      fail("--decode-tokens, --prompt-tokens and --repeats must be >= 1");
    for (int t : o.threads)
      if (t < 1) fail("--threads: thread counts must be >= 1, got ", t);
    if (!std::is_sorted(o.memory_tokens.begin(), o.memory_tokens.end()) ||
        o.memory_tokens.empty() || o.memory_tokens.front() < 1)
      fail("--memory-tokens must be increasing positive counts");
    if (!o.plot.empty() && !o.sweep) fail("--plot draws the --sweep results: add --sweep");

    std::vector<nlohmann::json> results;
    auto emit = [&](const nlohmann::json& result) {
      std::printf("%s\n", result.dump().c_str());
      std::fflush(stdout);
      results.push_back(result);
    };
    auto with_overrides = [&](BitLlamaConfig config) {
      if (!o.activation_quant.empty())
        config.activation_quant = parse_activation_quant(o.activation_quant);
      return config;
    };
    const ExportOptions exported{o.ternary, o.head, o.head};
    const ExportOptions* export_options = o.head == "safetensors" ? nullptr : &exported;
    auto load = [&](const std::filesystem::path& path, int n_threads) {
      LoadOptions load_options = o.placement.load_options();
      load_options.n_threads = n_threads;
      return BitLlama::load(path, load_options);
    };
    auto bench_model = [&](const std::filesystem::path& path) {
      for (int n_threads : o.threads) {
        const BitLlama model = load(path, n_threads);
        nlohmann::json result = bench_speed(model, n_threads, o.settings);
        const nlohmann::json& on_device = result["decode_device_sampled_tokens_per_s"];
        std::fprintf(
            stderr,
            "%s [%s], %d thread(s): decode %.0f tok/s (sampled: %.0f on the host%s), "
            "prefill %.0f tok/s, TTFT %.2f ms\n",
            model.config().shape_string().c_str(), model.placement_summary().c_str(), n_threads,
            result["decode_tokens_per_s"].get<double>(),
            result["decode_host_sampled_tokens_per_s"].get<double>(),
            on_device.is_null()
                ? ""
                : concat(", ", static_cast<int64_t>(on_device.get<double>()), " on the device")
                      .c_str(),
            result["prefill_tokens_per_s"].get<double>(), result["ttft_ms"].get<double>());
        emit(result);
      }
    };

    if (o.sweep) {
      int index = 0;
      for (const BitLlamaConfig& config : sweep_configs()) {
        auto model = random_model(with_overrides(config), index++, export_options);
        bench_model(model->path);
      }
    } else {
      std::unique_ptr<BenchModel> temporary;
      std::filesystem::path path = o.model;
      if (o.model.empty()) {
        temporary = random_model(with_overrides(config_by_name(o.config)), 0, export_options);
        path = temporary->path;
      } else if (!o.activation_quant.empty()) {
        fail("--activation-quant applies to --config models; a trained model keeps its own");
      }
      bench_model(path);
      if (o.memory) {
        const BitLlama model = load(path, o.threads.back());
        std::fprintf(stderr, "memory vs context (%d thread(s)):\n", o.threads.back());
        emit(bench_memory(model, o.memory_tokens));
      }
    }

    if (!o.out.empty()) {
      std::ofstream out(o.out, std::ios::app);
      for (const auto& result : results) out << result.dump() << "\n";
      if (!out) fail(o.out, ": cannot write the results");
    }
    if (!o.plot.empty()) {
      const std::filesystem::path jsonl =
          std::filesystem::temp_directory_path() / concat("bit_llama_sweep_", getpid(), ".jsonl");
      {
        std::ofstream out(jsonl);
        for (const auto& result : results) out << result.dump() << "\n";
      }
      run_python_script(kSweepPlotScript, {jsonl.string(), o.plot});
      std::filesystem::remove(jsonl);
    }
    return 0;
  };
}

}  // namespace bit_ttt::cli
