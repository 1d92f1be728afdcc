#include "serve/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <csignal>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "bit_ttt/error.h"
#include "serve/admission.h"
#include "serve/api.h"
#include "serve/client_socket.h"
#include "serve/engine.h"
#include "serve/sessions.h"

namespace bit_ttt::serve {
namespace {

using nlohmann::json;

struct Metrics {
  std::mutex mutex;
  std::map<int, int64_t> responses;  // by HTTP status
  int64_t generations = 0;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double generation_seconds = 0.0;
  double last_tokens_per_second = 0.0;
  int64_t client_disconnects = 0;  // generations stopped because the client left
};

// Compares every byte whatever the first difference, so the time taken does not
// tell an attacker how much of a guessed key was right.
bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference |= static_cast<unsigned char>(x ^ y);
  }
  return difference == 0;
}

std::string random_id(const char* prefix) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(prefix) + text;
}

std::string model_name(const std::filesystem::path& path) {
  std::filesystem::path clean = path;
  if (!clean.has_filename()) clean = clean.parent_path();
  return clean.extension() == ".bitt" ? clean.stem().string() : clean.filename().string();
}

int64_t file_bytes(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) {
    const auto size = std::filesystem::file_size(path, error);
    return error ? 0 : static_cast<int64_t>(size);
  }
  int64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path, error))
    if (entry.is_regular_file(error)) total += static_cast<int64_t>(entry.file_size(error));
  return total;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) {
  send_json(res, error.status, error_body(error.what(), error.type, error.param, error.code));
}

// SIGINT/SIGTERM only set a flag (any thread may receive them); a watcher
// thread sees it and stops the server. A second signal exits at once.
std::atomic<int> g_shutdown_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_shutdown_signal(int signal) {
  if (g_shutdown_signal.exchange(signal) != 0) std::_Exit(130);  // a second one: exit now
}

std::string sse(const json& chunk) {
  return "data: " + dump(chunk) + "\n\n";
}

class Server {
 public:
  Server(const ServerOptions& options, Engine& engine)
      : options_(options),
        engine_(engine),
        sessions_(engine,
                  options.state_dir.empty()
                      ? std::nullopt
                      : std::optional<std::filesystem::path>(options.state_dir),
                  static_cast<size_t>(options.max_sessions)),
        admission_(options.parallel, options.max_queue),
        name_(model_name(options.model_path)),
        file_bytes_(file_bytes(options.model_path)) {}

  int run();

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  Handler guarded(Handler handler);
  void routes();
  bool authorized(const httplib::Request& req) const;

  json model_card() const;
  std::string metrics_text();
  std::shared_ptr<Session> session_for(const httplib::Request& req, size_t match = 1);
  std::unique_ptr<Slot> enter();
  void completion(const httplib::Request& req, httplib::Response& res, bool chat);
  void record(const GenerationResult& result, bool client_left);

  const ServerOptions& options_;
  Engine& engine_;
  SessionStore sessions_;
  Admission admission_;
  Metrics metrics_;
  std::atomic<bool> stopping_{false};
  std::string name_;
  int64_t file_bytes_;
  httplib::Server http_;
};

Server::Handler Server::guarded(Handler handler) {
  return [handler](const httplib::Request& req, httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const ApiError& error) {
      send_error(res, error);
    } catch (const Error& error) {
      send_error(res, ApiError(400, error.what()));
    } catch (const std::bad_alloc&) {
      send_error(res, ApiError(500, "out of memory", "", "server_error"));
    } catch (const std::exception& error) {
      send_error(res, ApiError(500, error.what(), "", "server_error"));
    }
  };
}

bool Server::authorized(const httplib::Request& req) const {
  if (options_.api_key.empty()) return true;
  if (req.path == "/" || req.path == "/health" || req.path == "/favicon.ico") return true;
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  const std::string given = header.rfind(prefix, 0) == 0 ? header.substr(prefix.size()) : "";
  return constant_time_equal(given, options_.api_key);
}

json Server::model_card() const {
  const BitLlama& model = engine_.model();
  const BitLlamaConfig& config = model.config();
  return {{"id", name_},
          {"object", "model"},
          {"created", 0},
          {"owned_by", "bit-ttt"},
          {"context", "unlimited (TTT memory: a fixed-size state per layer, no KV cache)"},
          {"context_length", json()},
          {"parameters", config.n_parameters()},
          {"bits_per_weight", 1.58},
          {"format", model.format_summary()},
          {"placement", model.placement_summary()},
          {"weight_bytes", model.weight_bytes()},
          {"file_bytes", file_bytes_},
          {"vocab_size", config.vocab_size},
          {"hidden_dim", config.hidden_dim},
          {"n_layers", config.num_layers},
          {"ttt_dim", config.ttt_dim},
          {"memory_bytes_per_session",
           config.num_layers * config.ttt_dim * config.ttt_dim * int64_t{4}},
          {"chat_template", std::string(kChatTemplateDescription)}};
}

std::string Server::metrics_text() {
  std::ostringstream out;
  std::lock_guard lock(metrics_.mutex);
  out << "# HELP bit_ttt_http_responses_total HTTP responses by status code.\n"
         "# TYPE bit_ttt_http_responses_total counter\n";
  for (const auto& [status, count] : metrics_.responses)
    out << "bit_ttt_http_responses_total{code=\"" << status << "\"} " << count << "\n";
  const double rate =
      metrics_.generation_seconds > 0
          ? static_cast<double>(metrics_.generated_tokens) / metrics_.generation_seconds
          : 0.0;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << value << "\n";
  };
  metric("bit_ttt_generations_total", "counter", "Completed generations.",
         static_cast<double>(metrics_.generations));
  metric("bit_ttt_prompt_tokens_total", "counter", "Prompt tokens absorbed.",
         static_cast<double>(metrics_.prompt_tokens));
  metric("bit_ttt_generated_tokens_total", "counter", "Tokens generated.",
         static_cast<double>(metrics_.generated_tokens));
  metric("bit_ttt_generation_seconds_total", "counter", "Seconds spent generating tokens.",
         metrics_.generation_seconds);
  metric("bit_ttt_client_disconnects_total", "counter",
         "Generations stopped because the client went away.",
         static_cast<double>(metrics_.client_disconnects));
  metric("bit_ttt_tokens_per_second", "gauge", "Generated tokens per generation second.", rate);
  metric("bit_ttt_last_tokens_per_second", "gauge", "Speed of the latest generation.",
         metrics_.last_tokens_per_second);
  metric("bit_ttt_queue_depth", "gauge", "Requests waiting for a generation slot.",
         admission_.waiting());
  metric("bit_ttt_active_generations", "gauge", "Generations running now.", admission_.active());
  metric("bit_ttt_sessions", "gauge", "Live sessions.", static_cast<double>(sessions_.size()));
  return out.str();
}

void Server::record(const GenerationResult& result, bool client_left) {
  std::lock_guard lock(metrics_.mutex);
  ++metrics_.generations;
  if (client_left) ++metrics_.client_disconnects;
  metrics_.prompt_tokens += result.n_prompt_tokens;
  metrics_.generated_tokens += result.n_generated_tokens;
  metrics_.generation_seconds += result.generate_seconds;
  if (result.generate_seconds > 0)
    metrics_.last_tokens_per_second =
        static_cast<double>(result.n_generated_tokens) / result.generate_seconds;
}

std::shared_ptr<Session> Server::session_for(const httplib::Request& req, size_t match) {
  const std::string id = req.matches[match];
  if (!valid_session_id(id))
    throw ApiError(400,
                   "session id must be 1-64 characters of A-Z a-z 0-9 _ . - (not starting "
                   "with '.')",
                   "session_id");
  return sessions_.get(id);
}

std::unique_ptr<Slot> Server::enter() {
  switch (admission_.enter()) {
    case Admission::Result::entered:
      return std::make_unique<Slot>(admission_);
    case Admission::Result::queue_full:
      throw ApiError(429,
                     "server busy: every generation slot and queue place is taken; retry later", "",
                     "rate_limit_error", "queue_full");
    case Admission::Result::shutting_down:
      break;
  }
  throw ApiError(503, "server is shutting down", "", "server_error", "shutting_down");
}

void Server::completion(const httplib::Request& req, httplib::Response& res, bool chat) {
  const json body = parse_json_body(req.body);
  auto request = std::make_shared<CompletionRequest>(
      parse_completion_request(body, chat, options_.max_tokens_limit));
  if (!request->session_id && req.has_header("X-Session-Id"))
    request->session_id = req.get_header_value("X-Session-Id");
  if (request->session_id && !valid_session_id(*request->session_id))
    throw ApiError(400,
                   "session id must be 1-64 characters of A-Z a-z 0-9 _ . - (not starting "
                   "with '.')",
                   "session_id");
  if (request->model.empty()) request->model = name_;
  std::shared_ptr<Slot> slot = enter();
  std::shared_ptr<Session> session;
  if (request->session_id) session = sessions_.get(*request->session_id);

  const std::string id = random_id(chat ? "chatcmpl-" : "cmpl-");
  const int64_t created = static_cast<int64_t>(std::time(nullptr));
  const char* object =
      chat ? (request->stream ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  auto base = [=] {
    json value = {{"id", id}, {"object", object}, {"created", created}, {"model", request->model}};
    if (request->session_id) value["session_id"] = *request->session_id;
    return value;
  };
  // Runs the generation with the session's memory locked (or a fresh memory);
  // `client_gone` is asked between tokens.
  auto generate = [this, request, session](const TextCallback& callback,
                                           const std::function<bool()>& client_gone,
                                           int64_t& memory_tokens) {
    std::unique_lock<std::mutex> lock;
    std::optional<LlamaMemory> throwaway;
    LlamaMemory* memory;
    if (session) {
      lock = std::unique_lock(session->mutex);
      memory = &session->memory;
    } else {
      throwaway = engine_.new_memory();
      memory = &*throwaway;
    }
    const std::string prompt =
        request->chat ? chat_prompt(request->messages, session && memory->n_tokens() > 0)
                      : request->prompt;
    bool client_left = false;
    GenerationResult result = engine_.generate(*memory, prompt, request->options, callback, [&] {
      client_left = client_left || (client_gone && client_gone());
      return stopping_ || client_left;
    });
    if (callback && result.finish_reason == FinishReason::callback && !stopping_)
      client_left = true;  // a stream stops only when its client cannot be written to
    memory_tokens = memory->n_tokens();
    record(result, client_left);
    return result;
  };
  auto usage = [](const GenerationResult& result) {
    return json{{"prompt_tokens", result.n_prompt_tokens},
                {"completion_tokens", result.n_generated_tokens},
                {"total_tokens", result.n_prompt_tokens + result.n_generated_tokens}};
  };
  auto timings = [](const GenerationResult& result, int64_t memory_tokens) {
    return json{{"prompt_ms", result.prompt_seconds * 1e3},
                {"generate_ms", result.generate_seconds * 1e3},
                {"tokens_per_second",
                 result.generate_seconds > 0
                     ? static_cast<double>(result.n_generated_tokens) / result.generate_seconds
                     : 0.0},
                {"memory_tokens", memory_tokens}};
  };

  if (!request->stream) {
    ClientWatch watch(find_client_socket(req.remote_addr, req.remote_port, req.local_port),
                      std::chrono::milliseconds(20));
    int64_t memory_tokens = 0;
    const GenerationResult result = generate(
        {}, [&] { return watch.gone(); }, memory_tokens);
    json reply = base();
    json choice = {{"index", 0}, {"finish_reason", finish_reason_openai(result.finish_reason)}};
    if (chat) {
      choice["message"] = {{"role", "assistant"}, {"content", result.text}};
    } else {
      choice["text"] = result.text;
      choice["logprobs"] = nullptr;
    }
    reply["choices"] = json::array({choice});
    reply["usage"] = usage(result);
    reply["timings"] = timings(result, memory_tokens);
    send_json(res, 200, reply);
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [=](size_t, httplib::DataSink& sink) {
    auto choice = [&](json delta_or_text, json finish) {
      json c = {{"index", 0}, {"finish_reason", finish}};
      if (chat) {
        c["delta"] = std::move(delta_or_text);
      } else {
        c["text"] = std::move(delta_or_text);
        c["logprobs"] = nullptr;
      }
      json chunk = base();
      chunk["choices"] = json::array({c});
      return chunk;
    };
    auto write = [&](const std::string& text) {
      return sink.is_writable() && sink.write(text.data(), text.size());
    };
    bool open = !chat || write(sse(choice({{"role", "assistant"}, {"content", ""}}, nullptr)));
    try {
      int64_t memory_tokens = 0;
      const GenerationResult result = generate(
          [&](std::string_view piece) {
            open = open && write(sse(choice(chat ? json{{"content", std::string(piece)}}
                                                 : json(std::string(piece)),
                                            nullptr)));
            return open;
          },
          [&] { return !sink.is_writable(); }, memory_tokens);
      if (!open) return false;  // the client went away: generation already stopped
      json last =
          choice(chat ? json::object() : json(""), finish_reason_openai(result.finish_reason));
      last["timings"] = timings(result, memory_tokens);
      write(sse(last));
      if (request->include_usage) {
        json usage_chunk = base();
        usage_chunk["choices"] = json::array();
        usage_chunk["usage"] = usage(result);
        write(sse(usage_chunk));
      }
    } catch (const std::exception& error) {
      write(sse(error_body(error.what(), "invalid_request_error")));
    }
    write("data: [DONE]\n\n");
    (void)slot;  // released when the stream (and this provider) is dropped
    sink.done();
    return true;
  });
}

void Server::routes() {
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, ApiError(401, "missing or wrong API key (send 'Authorization: Bearer KEY')", "",
                             "invalid_request_error", "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  http_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string message = "error " + std::to_string(res.status);
        if (res.status == 404) message = "no such endpoint: " + req.method + " " + req.path;
        if (res.status == 413) message = "request body too large";
        if (res.status == 400) message = "malformed HTTP request";
        send_json(res, res.status, error_body(message, "invalid_request_error"));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http_.set_logger([this](const httplib::Request&, const httplib::Response& res) {
    std::lock_guard lock(metrics_.mutex);
    ++metrics_.responses[res.status];
  });

  http_.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "connect-src 'self'; img-src data:");
    res.set_content(kWebPage, "text/html; charset=utf-8");
  });
  http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (stopping_) {
      send_json(res, 503, {{"status", "shutting_down"}});
    } else {
      send_json(res, 200, {{"status", "ok"}});
    }
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
  http_.Get("/v1/models", guarded([this](const httplib::Request&, httplib::Response& res) {
              send_json(res, 200, {{"object", "list"}, {"data", json::array({model_card()})}});
            }));
  http_.Get(R"(/v1/models/([^/]+))",
            guarded([this](const httplib::Request& req, httplib::Response& res) {
              if (req.matches[1] != name_)
                throw ApiError(404, "no model '" + std::string(req.matches[1]) + "'", "model",
                               "invalid_request_error", "model_not_found");
              send_json(res, 200, model_card());
            }));
  http_.Post("/v1/completions",
             guarded([this](const httplib::Request& req, httplib::Response& res) {
               completion(req, res, false);
             }));
  http_.Post("/v1/chat/completions",
             guarded([this](const httplib::Request& req, httplib::Response& res) {
               completion(req, res, true);
             }));

  auto session_json = [this](const std::string& id, const Session& session) {
    return json{{"id", id},
                {"object", "session"},
                {"n_tokens", session.memory.n_tokens()},
                {"persistent", sessions_.state_dir().has_value()}};
  };
  http_.Get(R"(/v1/sessions/([^/]+))",
            guarded([this, session_json](const httplib::Request& req, httplib::Response& res) {
              auto session = session_for(req);
              std::lock_guard lock(session->mutex);
              send_json(res, 200, session_json(req.matches[1], *session));
            }));
  http_.Post(R"(/v1/sessions/([^/]+)/(reset|save|load|learn))",
             guarded([this, session_json](const httplib::Request& req, httplib::Response& res) {
               const std::string id = req.matches[1], action = req.matches[2];
               std::string text;
               if (action == "learn") {
                 const json body = parse_json_body(req.body);
                 auto it = body.find("text");
                 if (it == body.end() || !it->is_string())
                   throw ApiError(400, "'text' must be a string", "text");
                 text = it->get<std::string>();
               }
               std::unique_ptr<Slot> slot;
               if (action == "learn") slot = enter();  // runs the model: takes a slot
               auto session = session_for(req);
               std::lock_guard lock(session->mutex);
               json reply = session_json(id, *session);
               if (action == "reset") {
                 session->memory = engine_.new_memory();
               } else if (action == "save") {
                 sessions_.save(id, *session);
               } else if (action == "load") {
                 if (!sessions_.load(id, *session))
                   throw ApiError(404, "session '" + id + "' has nothing saved", "",
                                  "invalid_request_error", "not_found");
               } else {
                 reply["n_tokens_learned"] = engine_.learn(session->memory, text);
               }
               reply["n_tokens"] = session->memory.n_tokens();
               send_json(res, 200, reply);
             }));
}

int Server::run() {
  routes();
  http_.set_payload_max_length(options_.max_body_bytes);
  const int n_http_threads = std::min(options_.parallel + options_.max_queue + 8, 512);
  http_.new_task_queue = [n_http_threads] {
    return new httplib::ThreadPool(static_cast<size_t>(n_http_threads));
  };

  // cpp-httplib listens with a backlog of 5, so a burst of connections (64
  // clients at once) overflows it; listen() again on the bound socket with more.
  int listen_socket = -1;
  // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second server
  // share a port that is already in use instead of failing.
  http_.set_socket_options([&listen_socket](int socket) {
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_socket = socket;
  });
  int port = options_.port;
  if (port == 0) {
    port = http_.bind_to_any_port(options_.host);
  } else if (!http_.bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port <= 0) fail("cannot listen on ", options_.host, ":", options_.port);
  if (listen_socket >= 0) ::listen(listen_socket, 1024);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const int signal = g_shutdown_signal.load();
      if (signal == SIGINT || signal == SIGTERM) {
        std::fprintf(stderr, "bit_llama serve: %s, stopping\n",
                     signal == SIGINT ? "SIGINT" : "SIGTERM");
        stopping_ = true;
        admission_.shutdown();
        http_.stop();
        return;
      }
    }
  });
  std::fprintf(stderr, "bit_llama serve: model %s (%s, %s)\nlistening on http://%s:%d\n",
               name_.c_str(), engine_.model().format_summary().c_str(),
               engine_.model().placement_summary().c_str(), options_.host.c_str(), port);
  std::fflush(stderr);
  const bool ok = http_.listen_after_bind();
  stopping_ = true;
  admission_.shutdown();
  done = true;
  watcher.join();
  sessions_.save_all();
  if (sessions_.state_dir())
    std::fprintf(stderr, "bit_llama serve: saved %zu sessions to %s\n", sessions_.size(),
                 sessions_.state_dir()->string().c_str());
  return ok || stopping_ ? 0 : 1;
}

}  // namespace

int run_server(const ServerOptions& options) {
  if (options.parallel < 1) fail("--parallel must be >= 1, got ", options.parallel);
  if (options.max_queue < 0) fail("--max-queue must be >= 0, got ", options.max_queue);
  if (options.max_tokens_limit < 1)
    fail("--max-tokens-limit must be >= 1, got ", options.max_tokens_limit);
  if (options.max_sessions < 1) fail("--max-sessions must be >= 1, got ", options.max_sessions);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, on_shutdown_signal);
  std::signal(SIGTERM, on_shutdown_signal);
  Engine engine(BitLlama::load(options.model_path, options.load),
                load_model_tokenizer(options.model_path));
  Server server(options, engine);
  return server.run();
}

}  // namespace bit_ttt::serve
