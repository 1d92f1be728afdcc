// `bit_llama serve`: an OpenAI-compatible HTTP server (cpp-httplib) over one
// loaded model, with per-session TTT memories and the web chat page at "/".
#pragma once

#include <optional>
#include <string>

#include "bit_ttt/model.h"

namespace bit_ttt::serve {

struct ServerOptions {
  std::string model_path;
  LoadOptions load;
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: pick a free port (printed when ready)
  std::string api_key;              // empty: no authentication
  int parallel = 2;                 // generations running at once
  int max_queue = 16;               // requests waiting for a slot before 429
  int max_tokens_limit = 4096;      // largest max_tokens a request may ask for
  int max_sessions = 1024;          // live sessions before the least recent is evicted
  size_t max_body_bytes = 1 << 20;  // larger request bodies get 413
  std::string state_dir;            // empty: sessions live in memory only
};

// Serves until SIGINT or SIGTERM, then stops generation and saves the sessions.
int run_server(const ServerOptions& options);

// The embedded web page (web/index.html, generated at build time).
extern const char kWebPage[];

}  // namespace bit_ttt::serve
