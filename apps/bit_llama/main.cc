// bit_llama: train-free part of the Bit-TTT command line (init, logits, tokenize,
// run, chat). The seed's form `bit_llama --model DIR --prompt ...` means `run`.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "commands.h"
#include "train/blas_core.h"

int main(int argc, char** argv) {
  bit_ttt::rerun_with_fast_blas_if_needed(argv);  // before any work: may exec again
  // Seed compatibility: options without a subcommand run `run`.
  std::vector<char*> args(argv, argv + argc);
  static char run_word[] = "run";
  const bool wants_help_or_version =
      argc > 1 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0 ||
                   std::strcmp(argv[1], "--version") == 0);
  if (argc > 1 && argv[1][0] == '-' && !wants_help_or_version)
    args.insert(args.begin() + 1, run_word);

  CLI::App app{"bit_llama: Bit-TTT language models (1.58-bit BitLinear + test-time training)"};
  app.set_version_flag("--version", "bit_llama 0.1.0");
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, bit_ttt::cli::CommandRunner>> commands;
  auto add = [&](auto adder) {
    const size_t before = app.get_subcommands({}).size();
    auto runner = adder(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(runner));
  };
  add(bit_ttt::cli::add_init_command);
  add(bit_ttt::cli::add_logits_command);
  add(bit_ttt::cli::add_tokenize_command);
  add(bit_ttt::cli::add_run_command);
  add(bit_ttt::cli::add_chat_command);
  add(bit_ttt::cli::add_prepare_command);
  add(bit_ttt::cli::add_train_command);
  add(bit_ttt::cli::add_loss_command);
  add(bit_ttt::cli::add_eval_command);
  add(bit_ttt::cli::add_plot_command);
  add(bit_ttt::cli::add_tokenizer_command);
  add(bit_ttt::cli::add_bench_command);
  add(bit_ttt::cli::add_export_command);
  add(bit_ttt::cli::add_serve_command);

  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  try {
    for (auto& [command, runner] : commands)
      if (command->parsed()) return runner();
  } catch (const bit_ttt::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return 0;
}
