// bit_llama tokenizer train: learn a byte-level BPE tokenizer (GPT-2 style)
// from text files and write it as a Hugging Face tokenizer.json. The work is
// tokenizer::train_bpe; this file only maps flags and prints a summary.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "bit_ttt/tokenizer.h"
#include "commands.h"
#include "core/progress.h"
#include "tokenizer/bpe_trainer.h"

namespace bit_ttt::cli {

CommandRunner add_tokenizer_command(CLI::App& app) {
  struct Options {
    tokenizer::BpeTrainOptions train;
    std::vector<std::string> inputs;
    std::string out_path;
    bool quiet = false;
  };
  auto options = std::make_shared<Options>();
  tokenizer::BpeTrainOptions& train = options->train;
  CLI::App* command = app.add_subcommand("tokenizer", "train tokenizers");
  command->require_subcommand(1);
  CLI::App* train_command = command->add_subcommand(
      "train", "learn a byte-level BPE (GPT-2 style) from text files into a tokenizer.json");
  train_command->add_option("--input", options->inputs, "UTF-8 text files to learn from")
      ->required()
      ->expected(1, -1)
      ->check(CLI::ExistingFile);
  train_command
      ->add_option("--vocab-size", train.vocab_size,
                   "tokens in all: special tokens + 256 bytes + merges")
      ->required()
      ->check(CLI::PositiveNumber);
  train_command->add_option(
      "--special", train.special_tokens,
      "a special token, e.g. \"<|endoftext|>\" (repeatable; ids 0.. in order)");
  train_command->add_option("--out", options->out_path, "the tokenizer.json to write")->required();
  train_command
      ->add_option("--min-frequency", train.min_frequency,
                   "stop merging once the most frequent pair occurs fewer times")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  train_command->add_option("--threads", train.n_threads, "word counting threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  train_command->add_flag("-q,--quiet", options->quiet, "no progress output");

  return [options] {
    tokenizer::BpeTrainOptions& train_options = options->train;
    train_options.progress =
        options->quiet ? ProgressBar::Style::none : ProgressBar::Style::automatic;
    if (train_options.special_tokens.empty() && !options->quiet) {
      std::fprintf(stderr,
                   "note: no --special tokens: the tokenizer will have no end-of-text token\n");
    }
    const std::vector<std::filesystem::path> files(options->inputs.begin(), options->inputs.end());
    const tokenizer::BpeTrainResult result = tokenizer::train_bpe(files, train_options);
    tokenizer::write_bpe_tokenizer(options->out_path, result);
    // Loading the written file checks it and gives the fingerprint to compare runs by.
    const Tokenizer trained = Tokenizer::load(options->out_path);
    const double mb = static_cast<double>(result.n_bytes) / 1e6;
    std::fprintf(stderr,
                 "read %.2f MB: %lld words, %lld distinct (%.1f MB/s)\n"
                 "learned %zu merges in %.2f s: vocab %d\n"
                 "wrote %s (fingerprint %s)\n",
                 mb, static_cast<long long>(result.n_words),
                 static_cast<long long>(result.n_distinct_words),
                 result.count_seconds > 0 ? mb / result.count_seconds : 0.0, result.merges.size(),
                 result.merge_seconds, trained.vocab_size(), options->out_path.c_str(),
                 trained.fingerprint().c_str());
    if (static_cast<int32_t>(result.vocab.size()) < train_options.vocab_size) {
      std::fprintf(stderr, "note: the text ran out of pairs to merge before --vocab-size %d\n",
                   train_options.vocab_size);
    }
    return 0;
  };
}

}  // namespace bit_ttt::cli
