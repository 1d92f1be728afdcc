// Reading tokenizer.json fields: every type or presence problem becomes a
// bit_ttt::Error naming the component and the file (`what`), e.g.
// "Split pre-tokenizer in path/tokenizer.json: field \"behavior\" ...".
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace bit_ttt::tokenizer {

// The "type" string of a component object.
std::string json_type(const nlohmann::json& j, const std::string& what);

std::string json_string(const nlohmann::json& j, const char* key, const std::string& what);
// `fallback` when the key is absent or null.
std::string json_string_or(const nlohmann::json& j, const char* key, const std::string& fallback,
                           const std::string& what);
bool json_bool_or(const nlohmann::json& j, const char* key, bool fallback, const std::string& what);
int64_t json_int_or(const nlohmann::json& j, const char* key, int64_t fallback,
                    const std::string& what);
// A field that must be one Unicode character (Metaspace replacement, Strip content).
char32_t json_char(const nlohmann::json& j, const char* key, const std::string& what);

// A {"String": "..."} or {"Regex": "..."} pattern.
struct PatternSpec {
  bool is_regex = false;
  std::string text;
};
PatternSpec json_pattern(const nlohmann::json& j, const char* key, const std::string& what);

}  // namespace bit_ttt::tokenizer
