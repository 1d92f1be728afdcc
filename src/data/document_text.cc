#include "data/document_text.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::data {
namespace {

bool is_whitespace_only(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

std::string hex_byte(char c) {
  const auto value = static_cast<unsigned char>(c);
  return {'0', 'x', "0123456789abcdef"[value >> 4], "0123456789abcdef"[value & 15]};
}

}  // namespace

DocumentText document_text(RawDocument& document, const CorpusFile& file,
                           std::string_view jsonl_field) {
  DocumentText result;
  const size_t bad = tokenizer::find_invalid_utf8(document.bytes);
  if (bad != std::string_view::npos) {
    // Lines are only counted here, on the error path.
    const int64_t line =
        document.line + std::count(document.bytes.begin(), document.bytes.begin() + bad, '\n');
    result.status = DocumentStatus::invalid_utf8;
    result.error =
        concat(file.path.string(), ":", line, ": invalid UTF-8 at byte offset ",
               document.byte_offset + bad, " (byte ", hex_byte(document.bytes[bad]), ")");
    return result;
  }
  if (file.format == CorpusFormat::text) {
    result.text = std::move(document.bytes);
  } else {
    const std::string where = concat(file.path.string(), ":", document.line);
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(document.bytes);
    } catch (const nlohmann::json::parse_error& error) {
      fail(where, ": invalid JSON at column ", error.byte, ": ", error.what());
    }
    if (!object.is_object())
      fail(where, ": expected a JSON object per line, got ", object.type_name());
    const auto field = object.find(jsonl_field);
    if (field == object.end()) fail(where, ": the JSON object has no field \"", jsonl_field, "\"");
    if (!field->is_string())
      fail(where, ": field \"", jsonl_field, "\" is ", field->type_name(), ", expected a string");
    result.text = field->get<std::string>();
  }
  if (is_whitespace_only(result.text)) result.status = DocumentStatus::empty;
  return result;
}

}  // namespace bit_ttt::data
