// bit_llama chat: an interactive loop over one TTT memory. Every line you type
// and every reply is absorbed into the memory; /save and /load keep it on disk.
#include <editline/readline.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "bit_ttt/error.h"
#include "bit_ttt/llama.h"
#include "commands.h"
#include "common.h"

namespace bit_ttt::cli {
namespace {

const char kHelp[] =
    "commands: /reset (clear the memory)  /save FILE  /load FILE  /temp X  /tokens  /help  /quit\n";

// One line of input: readline with history on a terminal, plain getline otherwise.
bool read_line(bool interactive, std::string& line) {
  if (!interactive) return static_cast<bool>(std::getline(std::cin, line));
  char* raw = readline("> ");
  if (!raw) return false;
  line = raw;
  if (!line.empty()) add_history(raw);
  std::free(raw);
  return true;
}

}  // namespace

CommandRunner add_chat_command(CLI::App& app) {
  struct Options {
    ModelOptions model;
    SamplingOptions sampling;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("chat", "interactive chat with a persistent TTT memory");
  options->model.add_to(*command);
  options->sampling.add_to(*command);

  return [options] {
    GenerateOptions generate_options = options->sampling.generate_options();
    Llama llama = Llama::load_auto(options->model.model_path, options->model.load_options());
    const bool interactive = isatty(STDIN_FILENO) != 0;
    install_interrupt_handler();
    std::fprintf(stderr, "bit_llama chat: %s (%s). Ctrl-C stops a reply, Ctrl-D quits.\n%s",
                 options->model.model_path.c_str(), llama.model().placement_summary().c_str(),
                 kHelp);
    std::string line;
    while (read_line(interactive, line)) {
      if (line.empty()) continue;
      if (line[0] == '/') {
        std::istringstream words(line);
        std::string verb, argument;
        words >> verb;
        std::getline(words >> std::ws, argument);
        try {
          if (verb == "/quit" || verb == "/exit") break;
          if (verb == "/help") {
            std::fputs(kHelp, stdout);
          } else if (verb == "/reset") {
            llama.reset_state();
            std::puts("memory cleared");
          } else if (verb == "/tokens") {
            std::printf("memory holds %lld tokens\n", static_cast<long long>(llama.n_tokens()));
          } else if (verb == "/save" || verb == "/load") {
            if (argument.empty()) fail(verb, " needs a file name");
            if (verb == "/save") {
              llama.save_state(argument);
              std::printf("saved memory (%lld tokens) to %s\n",
                          static_cast<long long>(llama.n_tokens()), argument.c_str());
            } else {
              llama.load_state(argument);
              std::printf("loaded memory (%lld tokens) from %s\n",
                          static_cast<long long>(llama.n_tokens()), argument.c_str());
            }
          } else if (verb == "/temp") {
            SamplingParams params = generate_options.sampling;
            try {
              params.temperature = std::stof(argument);
            } catch (const std::exception&) {
              fail("/temp needs a number, got '", argument, "'");
            }
            params.validate();
            generate_options.sampling = params;
            std::printf("temperature %.3g\n", static_cast<double>(params.temperature));
          } else {
            fail("unknown command ", verb, " (try /help)");
          }
        } catch (const Error& error) {
          std::printf("error: %s\n", error.what());
        }
        std::fflush(stdout);
        continue;
      }
      clear_interrupt();
      try {
        const GenerationResult result =
            llama.generate(line + "\n", generate_options, [](std::string_view piece) {
              std::fwrite(piece.data(), 1, piece.size(), stdout);
              std::fflush(stdout);
              return !interrupted();
            });
        std::printf("\n");
        std::fprintf(
            stderr, "[%lld tokens, %s, memory %lld tokens]\n",
            static_cast<long long>(result.n_generated_tokens),
            rate_string(static_cast<double>(result.n_generated_tokens), result.generate_seconds)
                .c_str(),
            static_cast<long long>(llama.n_tokens()));
      } catch (const Error& error) {
        std::printf("error: %s\n", error.what());
      }
      std::fflush(stdout);
      clear_interrupt();
    }
    return 0;
  };
}

}  // namespace bit_ttt::cli
