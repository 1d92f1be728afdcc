// bit_llama tokenize: ids of a text, space-separated on one line.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "bit_ttt/error.h"
#include "bit_ttt/llama.h"
#include "bit_ttt/tokenizer.h"
#include "commands.h"
#include "core/read_file.h"

namespace bit_ttt::cli {

CommandRunner add_tokenize_command(CLI::App& app) {
  struct Options {
    std::string tokenizer_path, text, file;
    bool add_special = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("tokenize", "print the token ids of a text");
  command
      ->add_option("--tokenizer", options->tokenizer_path,
                   "tokenizer.json, a model directory or a .bitt file")
      ->required();
  auto* text = command->add_option("--text", options->text, "text to tokenize");
  auto* file = command->add_option("--file", options->file, "file whose contents to tokenize")
                   ->check(CLI::ExistingFile);
  text->excludes(file);
  command->add_flag("--add-special", options->add_special,
                    "add the tokenizer's special tokens (e.g. BOS)");

  return [options, text, file] {
    if (text->count() == 0 && file->count() == 0) fail("tokenize: give --text or --file");
    const Tokenizer tokenizer = load_model_tokenizer(options->tokenizer_path);
    std::string input = options->text;
    if (file->count() > 0) {
      input = read_file_to_string(options->file);
    }
    const std::vector<int32_t> ids = tokenizer.encode(input, options->add_special);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    std::printf("%s\n", line.c_str());
    return 0;
  };
}

}  // namespace bit_ttt::cli
