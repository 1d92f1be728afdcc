// bit_llama serve: the OpenAI-compatible HTTP server (apps/bit_llama/serve/).
#include <cstdlib>

#include "commands.h"
#include "common.h"
#include "serve/server.h"

namespace bit_ttt::cli {

CommandRunner add_serve_command(CLI::App& app) {
  struct Options {
    ModelOptions model;
    serve::ServerOptions server;
  };
  auto options = std::make_shared<Options>();
  serve::ServerOptions& server = options->server;
  CLI::App* command = app.add_subcommand(
      "serve", "OpenAI-compatible HTTP server with per-session TTT memory and a web chat page");
  options->model.add_to(*command);
  command->add_option("--host", server.host, "address to bind")->capture_default_str();
  command->add_option("--port", server.port, "port (0 = any free port, printed when ready)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  command->add_option("--api-key", server.api_key,
                      "require 'Authorization: Bearer KEY' (default: $BIT_TTT_API_KEY if set)");
  command->add_option("--parallel", server.parallel, "generations running at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--max-queue", server.max_queue, "requests waiting for a slot (then 429)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--max-tokens-limit", server.max_tokens_limit,
                   "largest max_tokens a request may ask for")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--max-sessions", server.max_sessions,
                   "live sessions kept before the least recently used is evicted")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--max-body-bytes", server.max_body_bytes, "largest request body (larger: 413)")
      ->capture_default_str();
  command->add_option("--state-dir", server.state_dir,
                      "save sessions here on shutdown/eviction and restore them on use");

  return [options] {
    serve::ServerOptions server_options = options->server;
    server_options.model_path = options->model.model_path;
    server_options.load = options->model.load_options();
    if (server_options.api_key.empty())
      if (const char* key = std::getenv("BIT_TTT_API_KEY")) server_options.api_key = key;
    return serve::run_server(server_options);
  };
}

}  // namespace bit_ttt::cli
