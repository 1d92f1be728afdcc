#include "common.h"

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bit_ttt/error.h"

namespace bit_ttt::cli {

int64_t parse_byte_size(const std::string& text, const char* option) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string suffix = text.substr(used);
  double unit = 0;
  if (suffix.empty() || suffix == "B") unit = 1;
  if (suffix == "K" || suffix == "KiB") unit = 1024.0;
  if (suffix == "M" || suffix == "MiB") unit = 1024.0 * 1024.0;
  if (suffix == "G" || suffix == "GiB") unit = 1024.0 * 1024.0 * 1024.0;
  if (used == 0 || unit == 0 || !(value >= 0) || value * unit > 9e18)
    fail(option, " must be a size like 512M or 2G, got '", text, "'");
  return static_cast<int64_t>(value * unit);
}

void ModelOptions::add_to(CLI::App& command, bool model_required) {
  auto* option = command.add_option(
      "--model,-m", model_path,
      "model directory (config.json, model.safetensors, tokenizer.json) or .bitt file");
  if (model_required) option->required();
  add_device_options(command);
  command.add_option("--threads,-t", n_threads, "CPU threads (0 = every core)")
      ->check(CLI::NonNegativeNumber);
  command.add_flag("--verify", verify, "check a .bitt file's checksums before use");
}

void ModelOptions::add_device_options(CLI::App& command) {
  command.add_option("--device", device, "cpu or cuda")->capture_default_str();
  command.add_option("--n-gpu-layers", n_gpu_layers,
                     "blocks on the GPU (hybrid placement): a number or 'auto' (plan from free "
                     "GPU memory; the default with --device cuda)");
  command.add_option(
      "--gpu-mem-limit", gpu_mem_limit,
      "GPU memory the 'auto' plan may use, e.g. 512M or 2G (simulates a small card)");
}

LoadOptions ModelOptions::load_options() const {
  LoadOptions options;
  options.device = device;
  options.n_threads = n_threads;
  options.verify = verify;
  if (!gpu_mem_limit.empty())
    options.gpu_mem_limit = parse_byte_size(gpu_mem_limit, "--gpu-mem-limit");
  if (n_gpu_layers == "auto") {
    options.n_gpu_layers = kAutoGpuLayers;
  } else if (!n_gpu_layers.empty()) {
    try {
      size_t used = 0;
      options.n_gpu_layers = std::stoll(n_gpu_layers, &used);
      if (used != n_gpu_layers.size()) throw std::invalid_argument("");
    } catch (const std::exception&) {
      fail("--n-gpu-layers must be a number or 'auto', got '", n_gpu_layers, "'");
    }
  }
  return options;
}

void SamplingOptions::add_to(CLI::App& command) {
  command
      .add_option("--temp,--temperature", params.temperature, "sampling temperature (0 = greedy)")
      ->capture_default_str();
  command.add_option("--max-tokens,-n", max_tokens, "tokens to generate")->capture_default_str();
  command.add_option("--top-k", params.top_k, "keep the k most likely tokens (0 = off)");
  command.add_option("--top-p", params.top_p, "nucleus sampling threshold (1 = off)");
  command.add_option("--min-p", params.min_p, "drop tokens below min-p x the top probability");
  command.add_option("--repeat-penalty", params.repetition_penalty,
                     "penalty for recently seen tokens (1 = off)");
  command.add_option("--repeat-last-n", params.repeat_last_n, "history the penalty looks at");
  command.add_option("--seed,-s", params.seed, "random seed (same seed => same text)");
  command.add_option("--stop", stop, "stop string (repeatable); never printed");
  command.add_flag("--ignore-eos", ignore_eos, "keep generating after the end-of-text token");
}

GenerateOptions SamplingOptions::generate_options() const {
  GenerateOptions options;
  options.max_tokens = max_tokens;
  options.sampling = params;
  options.stop = stop;
  options.stop_at_eos = !ignore_eos;
  options.sampling.validate();
  if (max_tokens < 0) fail("--max-tokens must be >= 0, got ", max_tokens);
  return options;
}

namespace {
std::atomic<int> g_interrupts{0};

void on_sigint(int) {
  if (g_interrupts.fetch_add(1) >= 1) {
    const char message[] = "\ninterrupted\n";
    [[maybe_unused]] auto ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
    std::_Exit(130);
  }
}
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_sigint);
}
bool interrupted() {
  return g_interrupts.load() > 0;
}
void clear_interrupt() {
  g_interrupts = 0;
}

std::vector<int32_t> parse_token_list(const std::string& text_or_path) {
  std::vector<int32_t> tokens;
  if (std::filesystem::is_regular_file(text_or_path)) {
    std::ifstream in(text_or_path);
    nlohmann::json list;
    try {
      list = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& error) {
      fail(text_or_path, ": not a JSON list of token ids: ", error.what());
    }
    if (!list.is_array()) fail(text_or_path, ": expected a JSON list of token ids");
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number_integer())
        fail(text_or_path, ": element ", i, " is not an integer token id: ", list[i].dump());
      const int64_t value = list[i].get<int64_t>();
      if (value < 0 || value > INT32_MAX)
        fail(text_or_path, ": token id ", value, " is out of range");
      tokens.push_back(static_cast<int32_t>(value));
    }
    return tokens;
  }
  std::stringstream stream(text_or_path);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const auto begin = item.find_first_not_of(" \t");
    const auto end = item.find_last_not_of(" \t");
    if (begin == std::string::npos) fail("--tokens: empty entry in '", text_or_path, "'");
    const std::string trimmed = item.substr(begin, end - begin + 1);
    try {
      size_t used = 0;
      const long long value = std::stoll(trimmed, &used);
      if (used != trimmed.size() || value < 0 || value > INT32_MAX) throw std::invalid_argument("");
      tokens.push_back(static_cast<int32_t>(value));
    } catch (const std::exception&) {
      fail("--tokens: '", trimmed, "' is not a token id (expected e.g. 1,2,3 or a JSON list file)");
    }
  }
  return tokens;
}

std::string rate_string(double count, double seconds) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.1f tokens/s", seconds > 0 ? count / seconds : 0.0);
  return text;
}

void run_python_script(const char* script, const std::vector<std::string>& args) {
  const std::filesystem::path script_path =
      std::filesystem::temp_directory_path() /
      ("bit_llama_script_" + std::to_string(getpid()) + ".py");
  {
    std::ofstream file(script_path);
    file << script;
    if (!file) fail(script_path.string(), ": cannot write the plot script");
  }
  std::vector<std::string> argv_strings = {"python3", script_path.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> child_argv;
  for (auto& arg : argv_strings) child_argv.push_back(arg.data());
  child_argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    execv("/usr/bin/python3", child_argv.data());
    std::_Exit(127);
  }
  int status = 0;
  if (child > 0) waitpid(child, &status, 0);
  std::filesystem::remove(script_path);
  if (child < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail(
        "plotting failed (needs /usr/bin/python3 with matplotlib: apt-get install "
        "python3-matplotlib)");
}

}  // namespace bit_ttt::cli
