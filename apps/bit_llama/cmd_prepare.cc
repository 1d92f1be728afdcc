// bit_llama prepare: tokenize a text corpus into train.bin / val.bin token
// files for training (docs/data-format.md). The work is data::prepare_corpus.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "commands.h"
#include "data/prepare.h"

namespace bit_ttt::cli {

CommandRunner add_prepare_command(CLI::App& app) {
  struct Options {
    data::PrepareOptions prepare;
    std::vector<std::string> inputs;
    std::string tokenizer_path, out_dir;
    bool quiet = false;
  };
  auto options = std::make_shared<Options>();
  data::PrepareOptions& prepare = options->prepare;
  CLI::App* command = app.add_subcommand(
      "prepare", "tokenize text files into DIR/train.bin and DIR/val.bin for training");
  command
      ->add_option("--input", options->inputs,
                   ".txt/.md/.jsonl files or directories (recursed, sorted, .txt/.md/.jsonl)")
      ->required()
      ->expected(1, -1);
  command->add_option("--tokenizer", options->tokenizer_path, "tokenizer.json (or its directory)")
      ->required();
  command->add_option("--out", options->out_dir, "output directory (created if missing)")
      ->required();
  command
      ->add_option("--val-fraction", prepare.val_fraction,
                   "fraction of documents (by a hash of their text) that go to val.bin")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--field", prepare.jsonl_field, "JSONL field that holds the document text")
      ->capture_default_str();
  command
      ->add_option("--separator", prepare.separator,
                   "a line that ends a document in text files (\"\" = split at blank lines)")
      ->capture_default_str();
  command->add_flag("--skip-invalid", prepare.skip_invalid,
                    "skip and count documents with invalid UTF-8 instead of failing");
  command->add_flag("--no-eos", prepare.no_eos,
                    "do not put an EOS token between documents (for tokenizers without one)");
  command->add_option("--threads", prepare.n_threads, "encoding threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--min-tokens", prepare.min_tokens,
                   "fail if the train split is shorter (one context + 1)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_flag("-q,--quiet", options->quiet, "no progress bar");

  return [options] {
    data::PrepareOptions& prepare_options = options->prepare;
    prepare_options.inputs.assign(options->inputs.begin(), options->inputs.end());
    prepare_options.tokenizer_path = options->tokenizer_path;
    prepare_options.out_dir = options->out_dir;
    if (options->quiet) prepare_options.progress = ProgressBar::Style::none;
    const data::PrepareStats stats = data::prepare_corpus(prepare_options);
    std::fprintf(stderr, "%s\n", data::format_prepare_summary(stats).c_str());
    if (prepare_options.val_fraction > 0 && stats.n_val_documents == 0)
      std::fprintf(stderr, "warning: no document went to val.bin; raise --val-fraction\n");
    return 0;
  };
}

}  // namespace bit_ttt::cli
