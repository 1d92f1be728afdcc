#include "tokenizer/json_fields.h"

#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

const nlohmann::json* field(const nlohmann::json& j, const char* key, const std::string& what) {
  if (!j.is_object()) fail(what, ": expected a JSON object, got ", j.type_name());
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::string json_type(const nlohmann::json& j, const std::string& what) {
  const nlohmann::json* type = field(j, "type", what);
  if (type == nullptr || !type->is_string()) fail(what, ": missing string field \"type\"");
  return type->get<std::string>();
}

std::string json_string(const nlohmann::json& j, const char* key, const std::string& what) {
  const nlohmann::json* value = field(j, key, what);
  if (value == nullptr) fail(what, ": missing field \"", key, "\"");
  if (!value->is_string()) {
    fail(what, ": field \"", key, "\" must be a string, got ", value->type_name());
  }
  return value->get<std::string>();
}

std::string json_string_or(const nlohmann::json& j, const char* key, const std::string& fallback,
                           const std::string& what) {
  return field(j, key, what) == nullptr ? fallback : json_string(j, key, what);
}

bool json_bool_or(const nlohmann::json& j, const char* key, bool fallback,
                  const std::string& what) {
  const nlohmann::json* value = field(j, key, what);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    fail(what, ": field \"", key, "\" must be a boolean, got ", value->type_name());
  }
  return value->get<bool>();
}

int64_t json_int_or(const nlohmann::json& j, const char* key, int64_t fallback,
                    const std::string& what) {
  const nlohmann::json* value = field(j, key, what);
  if (value == nullptr) return fallback;
  if (!value->is_number_integer()) {
    fail(what, ": field \"", key, "\" must be an integer, got ", value->type_name());
  }
  return value->get<int64_t>();
}

char32_t json_char(const nlohmann::json& j, const char* key, const std::string& what) {
  const std::string text = json_string(j, key, what);
  const int64_t cp = single_code_point(text);
  if (cp < 0) fail(what, ": field \"", key, "\" must be exactly one character, got \"", text, "\"");
  return static_cast<char32_t>(cp);
}

PatternSpec json_pattern(const nlohmann::json& j, const char* key, const std::string& what) {
  const nlohmann::json* value = field(j, key, what);
  if (value == nullptr || !value->is_object() || value->size() != 1) {
    fail(what, ": field \"", key, "\" must be {\"String\": ...} or {\"Regex\": ...}");
  }
  PatternSpec spec;
  if (value->contains("String")) {
    spec.text = json_string(*value, "String", what);
  } else if (value->contains("Regex")) {
    spec.is_regex = true;
    spec.text = json_string(*value, "Regex", what);
  } else {
    fail(what, ": field \"", key, "\" must be {\"String\": ...} or {\"Regex\": ...}, got ",
         value->dump());
  }
  return spec;
}

}  // namespace bit_ttt::tokenizer
