// Options shared by several subcommands (declared once, registered per command).
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "bit_ttt/llama.h"
#include "bit_ttt/model.h"
#include "bit_ttt/sampler.h"

namespace bit_ttt::cli {

// "512M", "2G", "1.5GiB", "4096" → bytes; fails naming `option` otherwise.
int64_t parse_byte_size(const std::string& text, const char* option);

struct ModelOptions {
  std::string model_path;
  std::string device = "cpu";
  std::string n_gpu_layers;   // "" = from config / auto, "auto" or a number
  std::string gpu_mem_limit;  // "" = no limit, else "512M", "2G", bytes
  int n_threads = 0;
  bool verify = false;

  void add_to(CLI::App& command, bool model_required = true);
  // --device, --n-gpu-layers, --gpu-mem-limit alone (for commands with their own --model).
  void add_device_options(CLI::App& command);
  LoadOptions load_options() const;
};

struct SamplingOptions {
  SamplingParams params;
  int max_tokens = 128;
  std::vector<std::string> stop;
  bool ignore_eos = false;

  void add_to(CLI::App& command);
  GenerateOptions generate_options() const;
};

// Ctrl-C handling for generation: the first SIGINT sets the flag (generation
// stops cleanly), a second one exits immediately.
void install_interrupt_handler();
bool interrupted();
void clear_interrupt();

// "1,2,3" or a path to a JSON list file -> token ids.
std::vector<int32_t> parse_token_list(const std::string& text_or_path);

// Runs a Python script (text) with /usr/bin/python3 and `args`; fails clearly when
// it exits non-zero (e.g. matplotlib missing). Used to draw plots.
void run_python_script(const char* script, const std::vector<std::string>& args);

// Human-readable rate: "123.4 tokens/s".
std::string rate_string(double count, double seconds);

}  // namespace bit_ttt::cli
