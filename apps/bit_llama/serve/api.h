// The OpenAI-compatible request and response shapes: parsing and checking a
// completion request into GenerateOptions + prompt, the chat template, and the
// JSON bodies of replies, stream chunks and errors.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "bit_ttt/llama.h"

namespace bit_ttt::serve {

// A request the server refuses: HTTP status + an OpenAI error body.
struct ApiError : std::runtime_error {
  ApiError(int status_in, const std::string& message, std::string param_in = "",
           std::string type_in = "invalid_request_error", std::string code_in = "")
      : std::runtime_error(message),
        status(status_in),
        param(std::move(param_in)),
        type(std::move(type_in)),
        code(std::move(code_in)) {}
  int status;
  std::string param, type, code;
};

nlohmann::json error_body(const std::string& message, const std::string& type,
                          const std::string& param = "", const std::string& code = "");

// The chat template for base models: each message becomes "<|role|>\n" + content
// + "\n" and the prompt ends with "<|assistant|>\n". Generation stops at "<|user|>"
// and "<|system|>". With a session only the messages after the last assistant
// message are fed (the memory already holds the earlier turns).
extern const char kChatTemplateDescription[];

struct CompletionRequest {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::string model;
  std::string prompt;       // completions: the prompt as given
  nlohmann::json messages;  // chat: checked; the prompt is built once the memory is known
  GenerateOptions options;
  std::optional<std::string> session_id;
};

// Throws ApiError (400) naming the bad field.
CompletionRequest parse_completion_request(const nlohmann::json& body, bool chat,
                                           int max_tokens_limit);
// The chat template applied to checked messages (see kChatTemplateDescription).
std::string chat_prompt(const nlohmann::json& messages, bool has_memory);

// Parses a request body: ApiError 400 for malformed JSON or a non-object.
nlohmann::json parse_json_body(const std::string& body);

std::string finish_reason_openai(FinishReason reason);

// A JSON body as text; invalid UTF-8 never throws (replaced by U+FFFD).
std::string dump(const nlohmann::json& value);

}  // namespace bit_ttt::serve
