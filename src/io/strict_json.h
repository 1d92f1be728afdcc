// The JSON header parser shared by the safetensors and .bitt readers. Stricter
// than nlohmann's default in the two ways a file header needs: nesting is bounded
// (a hostile [[[[... would otherwise cost a DOM node plus a key set per byte), and
// a repeated key is reported instead of silently keeping the last value.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bit_ttt/error.h"

namespace bit_ttt {

template <typename Json>
struct StrictJson {
  Json value;
  std::optional<std::string> duplicate_key;  // the first repeated key, if any
  size_t duplicate_key_depth = 0;            // objects open around it: 1 = a root key
};

// Fails "FILE: header is not valid JSON: ..." (detail cut to 300 characters:
// nlohmann quotes the offending token, which can be megabytes long) or
// "FILE: header JSON nests deeper than N levels<depth_note>".
template <typename Json>
StrictJson<Json> parse_strict_json(const std::string& file, std::string_view text, int max_depth,
                                   std::string_view depth_note = "") {
  struct TooDeep {};
  StrictJson<Json> result;
  std::vector<std::set<std::string>> keys_of_open_objects;
  const typename Json::parser_callback_t callback =
      [&](int depth, typename Json::parse_event_t event, Json& parsed) {
        switch (event) {
          case Json::parse_event_t::array_start:
            if (depth >= max_depth) throw TooDeep{};
            break;
          case Json::parse_event_t::object_start:
            if (depth >= max_depth) throw TooDeep{};
            keys_of_open_objects.emplace_back();
            break;
          case Json::parse_event_t::object_end:
            if (!keys_of_open_objects.empty()) keys_of_open_objects.pop_back();
            break;
          case Json::parse_event_t::key:
            if (!keys_of_open_objects.empty() && !result.duplicate_key &&
                !keys_of_open_objects.back().insert(parsed.template get<std::string>()).second) {
              result.duplicate_key = parsed.template get<std::string>();
              result.duplicate_key_depth = keys_of_open_objects.size();
            }
            break;
          default:
            break;
        }
        return true;
      };
  try {
    result.value = Json::parse(text.begin(), text.end(), callback);
  } catch (const typename Json::exception& error) {
    constexpr size_t kMaxDetail = 300;
    std::string detail = error.what();
    if (detail.size() > kMaxDetail) detail = detail.substr(0, kMaxDetail) + "...";
    fail(file, ": header is not valid JSON: ", detail);
  } catch (const TooDeep&) {
    fail(file, ": header JSON nests deeper than ", max_depth, " levels", depth_note);
  }
  return result;
}

}  // namespace bit_ttt
