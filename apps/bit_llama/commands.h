// The bit_llama subcommands. Each file adds one subcommand to the CLI11 app and
// runs it through the public library API (include/bit_ttt), nothing else.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace bit_ttt::cli {

// A registered subcommand: `run` is called when it was selected on the command line.
using CommandRunner = std::function<int()>;

CommandRunner add_init_command(CLI::App& app);
CommandRunner add_logits_command(CLI::App& app);
CommandRunner add_tokenize_command(CLI::App& app);
CommandRunner add_run_command(CLI::App& app);
CommandRunner add_chat_command(CLI::App& app);
CommandRunner add_prepare_command(CLI::App& app);
CommandRunner add_train_command(CLI::App& app);

}  // namespace bit_ttt::cli
