#include "tokenizer/normalizer.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "bit_ttt/error.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<const Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<const Normalizer>> steps_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);  // HF leaves empty pieces empty
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(const PatternSpec& pattern, std::string content, const std::string& what)
      : literal_(pattern.text), content_(std::move(content)) {
    if (pattern.is_regex) regex_.emplace(pattern.text, what);
  }
  void normalize(std::string& text) const override {
    std::vector<Match> matches;
    if (regex_) {
      regex_->find_all(text, matches);
    } else {
      find_literal(text, literal_, matches);
    }
    if (matches.empty()) return;
    std::string out;
    out.reserve(text.size() + matches.size() * content_.size());
    size_t prev = 0;
    for (const Match& m : matches) {
      out.append(text, prev, m.begin - prev);
      out.append(content_);
      prev = m.end;
    }
    out.append(text, prev, std::string::npos);
    text = std::move(out);
  }

 private:
  std::string literal_;
  std::optional<Regex> regex_;
  std::string content_;
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t begin = 0;
    size_t end = text.size();
    if (left_) {
      size_t pos = 0;
      while (pos < end) {
        size_t next = pos;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        pos = next;
      }
      begin = pos;
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;  // back up to the lead byte of the last character
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t next = start;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_;
  bool right_;
};

}  // namespace

std::unique_ptr<const Normalizer> parse_normalizer(const nlohmann::json& j,
                                                   const std::string& file) {
  if (j.is_null()) return nullptr;
  const std::string what = "normalizer in " + file;
  const std::string type = json_type(j, what);
  const std::string component = type + " " + what;
  if (type == "Sequence") {
    const auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) fail(component, ": missing array \"normalizers\"");
    std::vector<std::unique_ptr<const Normalizer>> steps;
    for (const auto& child : *it) {
      if (auto step = parse_normalizer(child, file)) steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  if (type == "Prepend") {
    return std::make_unique<PrependNormalizer>(json_string(j, "prepend", component));
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(json_pattern(j, "pattern", component),
                                               json_string(j, "content", component), component);
  }
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(json_bool_or(j, "strip_left", true, component),
                                             json_bool_or(j, "strip_right", true, component));
  }
  fail("unsupported normalizer ", type, " in ", file,
       " (supported: Sequence, Prepend, Replace, Strip; Unicode normalization forms and "
       "case folding are not implemented)");
}

}  // namespace bit_ttt::tokenizer
