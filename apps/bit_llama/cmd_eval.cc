// bit_llama eval: mean loss and perplexity of a model on held-out text.
#include <cmath>
#include <cstdio>

#include "bit_ttt/error.h"
#include "bit_ttt/tokenizer.h"
#include "commands.h"
#include "common.h"
#include "core/read_file.h"
#include "core/thread_pool.h"
#include "data/token_file.h"
#include "data/token_file_check.h"
#include "train/evaluate.h"
#include "train/params.h"

namespace bit_ttt::cli {

CommandRunner add_eval_command(CLI::App& app) {
  struct Options {
    std::string model, data;
    int64_t context_len = 128, batch_size = 16, max_windows = 0;
    int n_threads = 0;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("eval", "mean loss and perplexity on held-out text");
  command->add_option("--model,-m", options->model, "model directory")->required();
  command
      ->add_option("--data", options->data,
                   "a .txt file (tokenized with the model's "
                   "tokenizer) or a .bin token file")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--context-len", options->context_len, "tokens per window")
      ->capture_default_str();
  command->add_option("--batch-size", options->batch_size, "windows per batch")
      ->capture_default_str();
  command->add_option("--max-windows", options->max_windows, "evaluate at most this many windows");
  command->add_option("--threads,-t", options->n_threads, "CPU threads (0 = every core)");

  return [options] {
    if (options->n_threads > 0) set_default_thread_count(options->n_threads);
    const ModelParams params = ModelParams::load(options->model);
    const std::filesystem::path tokenizer_path =
        std::filesystem::path(options->model) / "tokenizer.json";
    std::vector<int32_t> tokens;
    if (options->data.ends_with(".bin")) {
      const data::TokenFile file = data::TokenFile::open(options->data);
      std::string fingerprint;
      if (std::filesystem::exists(tokenizer_path))
        fingerprint = Tokenizer::load(tokenizer_path.string()).fingerprint();
      data::check_token_file_matches(file, params.config.vocab_size, fingerprint);
      tokens = file.read(0, file.n_tokens());
    } else {
      if (!std::filesystem::exists(tokenizer_path))
        fail(options->model, ": no tokenizer.json to tokenize ", options->data, " with");
      tokens = Tokenizer::load(tokenizer_path.string()).encode(read_file_to_string(options->data));
    }
    auto workspace = make_train_workspace();
    const EvalResult result = evaluate_loss(params, tokens, options->context_len,
                                            options->batch_size, options->max_windows, *workspace);
    std::printf("loss %.4f | perplexity %.3f | %lld tokens predicted (context %lld)\n",
                result.mean_loss, std::exp(result.mean_loss),
                static_cast<long long>(result.n_predictions),
                static_cast<long long>(options->context_len));
    return 0;
  };
}

}  // namespace bit_ttt::cli
