// The bit_llama subcommands. Each file adds one subcommand to the CLI11 app and
// runs it through the public library API (include/bit_ttt), nothing else.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "train/trainer.h"

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
CommandRunner add_loss_command(CLI::App& app);
CommandRunner add_eval_command(CLI::App& app);
CommandRunner add_plot_command(CLI::App& app);
CommandRunner add_tokenizer_command(CLI::App& app);
CommandRunner add_bench_command(CLI::App& app);
CommandRunner add_export_command(CLI::App& app);
CommandRunner add_serve_command(CLI::App& app);

// Shared by `bit_llama train` and the train_llama program.
void add_train_options(CLI::App& command, TrainOptions& options);
int run_training(const TrainOptions& options);

}  // namespace bit_ttt::cli
