// bit_llama init: a model directory with random weights (until a model is trained).
#include <cstdio>
#include <filesystem>

#include "bit_ttt/error.h"
#include "bit_ttt/model.h"
#include "bit_ttt/tokenizer.h"
#include "commands.h"
#include "core/atomic_file.h"
#include "core/read_file.h"

namespace bit_ttt::cli {

CommandRunner add_init_command(CLI::App& app) {
  struct Options {
    std::string config_path, out_dir, tokenizer_path;
    uint64_t seed = 0;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "init", "write a model directory with random weights (normal std 0.02, norms 1)");
  command->add_option("--config,-c", options->config_path, "config.json to use")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--seed,-s", options->seed, "random seed (same seed => same weights)")
      ->capture_default_str();
  command->add_option("--out,-o", options->out_dir, "output model directory")->required();
  command
      ->add_option("--tokenizer", options->tokenizer_path,
                   "tokenizer.json to copy into the model (default: a byte-level tokenizer "
                   "with <|endoftext|>, 257 tokens)")
      ->check(CLI::ExistingFile);

  return [options] {
    const BitLlamaConfig config = BitLlamaConfig::load(options->config_path);
    const std::filesystem::path out = options->out_dir;
    // Validate the tokenizer before writing anything.
    std::string tokenizer_json;
    if (!options->tokenizer_path.empty()) {
      const Tokenizer tokenizer = Tokenizer::load(options->tokenizer_path);
      if (tokenizer.vocab_size() > config.vocab_size)
        fail(options->tokenizer_path, " has ", tokenizer.vocab_size(),
             " tokens but the config's vocab_size is ", config.vocab_size);
      tokenizer_json = read_file_to_string(options->tokenizer_path);
    } else if (config.vocab_size >= 257) {
      tokenizer_json = byte_level_tokenizer_json({"<|endoftext|>"});
    }
    write_random_model(config, options->seed, out);
    if (!tokenizer_json.empty()) write_file_atomically(out / "tokenizer.json", tokenizer_json);
    std::fprintf(
        stderr, "wrote %s: %s, %.2fM parameters, seed %llu%s\n", out.string().c_str(),
        config.shape_string().c_str(), static_cast<double>(config.n_parameters()) / 1e6,
        static_cast<unsigned long long>(options->seed),
        tokenizer_json.empty() ? " (no tokenizer: vocab_size < 257, pass --tokenizer)" : "");
    return 0;
  };
}

}  // namespace bit_ttt::cli
