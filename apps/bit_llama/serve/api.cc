#include "serve/api.h"

#include <random>

namespace bit_ttt::serve {
namespace {

using nlohmann::json;

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

[[noreturn]] void bad_field(const std::string& name, const std::string& what) {
  throw ApiError(400, "'" + name + "' " + what, name);
}

double number_field(const json& body, const char* name, double fallback, double low, double high) {
  const json* value = field(body, name);
  if (!value) return fallback;
  if (!value->is_number()) bad_field(name, "must be a number");
  const double number = value->get<double>();
  if (!(number >= low && number <= high))
    bad_field(name, "must be between " + json(low).dump() + " and " + json(high).dump());
  return number;
}

int64_t integer_field(const json& body, const char* name, int64_t fallback, int64_t low,
                      int64_t high) {
  const json* value = field(body, name);
  if (!value) return fallback;
  if (!value->is_number_integer()) bad_field(name, "must be an integer");
  if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(high))
    bad_field(name, "must be at most " + std::to_string(high));
  const int64_t number = value->get<int64_t>();
  if (number < low || number > high)
    bad_field(name, "must be between " + std::to_string(low) + " and " + std::to_string(high));
  return number;
}

bool bool_field(const json& body, const char* name, bool fallback) {
  const json* value = field(body, name);
  if (!value) return fallback;
  if (!value->is_boolean()) bad_field(name, "must be true or false");
  return value->get<bool>();
}

std::string string_of(const json& value, const std::string& name) {
  if (!value.is_string()) bad_field(name, "must be a string");
  return value.get<std::string>();
}

// "content" is a string or a list of {"type": "text", "text": ...} parts.
std::string message_content(const json& message, size_t index) {
  const std::string name = "messages[" + std::to_string(index) + "].content";
  auto it = message.find("content");
  if (it == message.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) bad_field(name, "must be a string or a list of text parts");
  std::string text;
  for (const json& part : *it) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text"))
      bad_field(name, "parts must be {\"type\": \"text\", \"text\": ...}");
    text += string_of(part["text"], name);
  }
  return text;
}

}  // namespace

std::string chat_prompt(const json& messages, bool has_memory) {
  if (!messages.is_array() || messages.empty())
    bad_field("messages", "must be a non-empty list of messages");
  size_t first = 0;
  if (has_memory)
    for (size_t i = 0; i < messages.size(); ++i)
      if (messages[i].is_object() && messages[i].value("role", json()) == "assistant")
        first = i + 1;
  std::string prompt = has_memory ? "\n" : "";
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& message = messages[i];
    if (!message.is_object()) bad_field("messages[" + std::to_string(i) + "]", "must be an object");
    auto role_it = message.find("role");
    if (role_it == message.end())
      bad_field("messages[" + std::to_string(i) + "].role", "is missing");
    const std::string role = string_of(*role_it, "messages[" + std::to_string(i) + "].role");
    if (role != "system" && role != "user" && role != "assistant" && role != "developer")
      bad_field("messages[" + std::to_string(i) + "].role",
                "must be system, developer, user or assistant");
    const std::string content = message_content(message, i);
    if (i < first) continue;
    prompt += "<|" + (role == "developer" ? std::string("system") : role) + "|>\n" + content + "\n";
  }
  return prompt + "<|assistant|>\n";
}

const char kChatTemplateDescription[] =
    "each message as '<|role|>\\n' + content + '\\n', then '<|assistant|>\\n'; generation stops "
    "at '<|user|>' or '<|system|>'; with a session only the messages after the last assistant "
    "message are fed (the TTT memory already holds the earlier turns)";

json error_body(const std::string& message, const std::string& type, const std::string& param,
                const std::string& code) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? json() : json(param)},
            {"code", code.empty() ? json() : json(code)}}}};
}

json parse_json_body(const std::string& body) {
  json value;
  try {
    value = json::parse(body);
  } catch (const json::parse_error& error) {
    throw ApiError(400, std::string("request body is not valid JSON (UTF-8): ") + error.what());
  }
  if (!value.is_object()) throw ApiError(400, "request body must be a JSON object");
  return value;
}

CompletionRequest parse_completion_request(const json& body, bool chat, int max_tokens_limit) {
  CompletionRequest request;
  request.chat = chat;
  if (const json* model = field(body, "model")) request.model = string_of(*model, "model");
  if (const json* session = field(body, "session_id"))
    request.session_id = string_of(*session, "session_id");
  if (chat) {
    const json* messages = field(body, "messages");
    if (!messages) bad_field("messages", "is required");
    chat_prompt(*messages, false);  // checks every message
    request.messages = *messages;
  } else {
    const json* prompt = field(body, "prompt");
    if (!prompt) {
      request.prompt = "";
    } else if (prompt->is_array()) {
      if (prompt->size() != 1) bad_field("prompt", "as a list must hold exactly one string");
      request.prompt = string_of((*prompt)[0], "prompt");
    } else {
      request.prompt = string_of(*prompt, "prompt");
    }
  }
  const int64_t n = integer_field(body, "n", 1, INT32_MIN, INT32_MAX);
  if (n != 1) bad_field("n", "must be 1 (one completion per request)");
  request.stream = bool_field(body, "stream", false);
  if (const json* stream_options = field(body, "stream_options")) {
    if (!stream_options->is_object()) bad_field("stream_options", "must be an object");
    request.include_usage = bool_field(*stream_options, "include_usage", false);
  }

  GenerateOptions& options = request.options;
  const char* max_name =
      chat && field(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  options.max_tokens = static_cast<int>(integer_field(
      body, max_name, chat ? std::min(256, max_tokens_limit) : std::min(16, max_tokens_limit), 0,
      INT32_MAX));
  if (options.max_tokens > max_tokens_limit)
    bad_field(max_name, "must be at most " + std::to_string(max_tokens_limit) +
                            " (the server's --max-tokens-limit)");
  SamplingParams& sampling = options.sampling;
  sampling.temperature = static_cast<float>(number_field(body, "temperature", 1.0, 0.0, 2.0));
  sampling.top_p = static_cast<float>(number_field(body, "top_p", 1.0, 0.0, 1.0));
  if (sampling.top_p <= 0.0f) sampling.top_p = 1e-6f;  // top_p 0: keep only the best token
  sampling.top_k = static_cast<int>(integer_field(body, "top_k", 0, 0, INT32_MAX));
  sampling.min_p = static_cast<float>(number_field(body, "min_p", 0.0, 0.0, 1.0));
  sampling.repetition_penalty =
      static_cast<float>(number_field(body, "repetition_penalty", 1.0, 1e-3, 100.0));
  sampling.frequency_penalty =
      static_cast<float>(number_field(body, "frequency_penalty", 0.0, -2.0, 2.0));
  sampling.presence_penalty =
      static_cast<float>(number_field(body, "presence_penalty", 0.0, -2.0, 2.0));
  // The window of recent tokens (prompt and reply) the three penalties look at.
  sampling.repeat_last_n =
      static_cast<int>(integer_field(body, "repeat_last_n", sampling.repeat_last_n, -1, INT32_MAX));
  const json* seed = field(body, "seed");
  if (seed) {
    if (!seed->is_number_integer()) bad_field("seed", "must be an integer");
    sampling.seed = seed->is_number_unsigned() ? seed->get<uint64_t>()
                                               : static_cast<uint64_t>(seed->get<int64_t>());
  } else {
    sampling.seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  }
  if (const json* stop = field(body, "stop")) {
    if (stop->is_string()) {
      options.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > 4) bad_field("stop", "may hold at most 4 strings");
      for (const json& item : *stop) options.stop.push_back(string_of(item, "stop"));
    } else {
      bad_field("stop", "must be a string or a list of strings");
    }
    for (const std::string& text : options.stop)
      if (text.empty()) bad_field("stop", "strings must not be empty");
  }
  if (chat) {
    options.stop.push_back("<|user|>");
    options.stop.push_back("<|system|>");
  }
  options.stop_at_eos = !bool_field(body, "ignore_eos", false);
  try {
    sampling.validate();
  } catch (const std::exception& error) {
    throw ApiError(400, error.what());
  }
  return request;
}

std::string finish_reason_openai(FinishReason reason) {
  return reason == FinishReason::length ? "length" : "stop";
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace bit_ttt::serve
