// bit_llama run: stream a completion of a prompt. Text goes to stdout as it is
// generated; timing and tokens/s go to stderr.
#include <chrono>
#include <cstdio>

#include "bit_ttt/error.h"
#include "bit_ttt/llama.h"
#include "commands.h"
#include "common.h"
#include "core/read_file.h"

namespace bit_ttt::cli {

CommandRunner add_run_command(CLI::App& app) {
  struct Options {
    ModelOptions model;
    SamplingOptions sampling;
    std::string prompt, prompt_file, state_in, state_out;
    bool quiet = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("run", "generate text from a prompt (streams to stdout)");
  options->model.add_to(*command);
  options->sampling.add_to(*command);
  command->add_option("--prompt,-p", options->prompt, "prompt text");
  command->add_option("--prompt-file", options->prompt_file, "read the prompt from a file")
      ->check(CLI::ExistingFile);
  command->add_option("--state-in", options->state_in, "continue from a saved TTT memory");
  command->add_option("--state-out", options->state_out, "save the TTT memory afterwards");
  command->add_flag("--quiet,-q", options->quiet, "no timing report on stderr");

  return [options] {
    const GenerateOptions generate_options = options->sampling.generate_options();
    std::string prompt = options->prompt;
    if (!options->prompt_file.empty()) {
      prompt = read_file_to_string(options->prompt_file);
    }
    const auto load_start = std::chrono::steady_clock::now();
    Llama llama = Llama::load_auto(options->model.model_path, options->model.load_options());
    const double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    if (!options->state_in.empty()) llama.load_state(options->state_in);

    install_interrupt_handler();
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    std::fflush(stdout);
    const GenerationResult result =
        llama.generate(prompt, generate_options, [](std::string_view piece) {
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
          return !interrupted();
        });
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!options->state_out.empty()) llama.save_state(options->state_out);
    if (!options->quiet) {
      std::fprintf(
          stderr,
          "\nload: %.0f ms | prompt: %lld tokens, %.1f ms (%s) | generated: %lld tokens, "
          "%.1f ms (%s) | finish: %s | memory: %lld tokens\n",
          load_seconds * 1e3, static_cast<long long>(result.n_prompt_tokens),
          result.prompt_seconds * 1e3,
          rate_string(static_cast<double>(result.n_prompt_tokens), result.prompt_seconds).c_str(),
          static_cast<long long>(result.n_generated_tokens), result.generate_seconds * 1e3,
          rate_string(static_cast<double>(result.n_generated_tokens), result.generate_seconds)
              .c_str(),
          std::string(finish_reason_name(result.finish_reason)).c_str(),
          static_cast<long long>(llama.n_tokens()));
    }
    return 0;
  };
}

}  // namespace bit_ttt::cli
