#include "tokenizer/pre_tokenizer.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "bit_ttt/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

// The fixed pattern of GPT-2's ByteLevel(use_regex=true).
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Splits every piece with `find` (appending delimiter matches for a text) and
// a behavior; the piece starting a split keeps the at_start flag.
template <typename FindMatches>
void split_pieces(std::vector<PreToken>& pieces, SplitBehavior behavior, bool invert,
                  FindMatches&& find) {
  std::vector<PreToken> out;
  out.reserve(pieces.size() * 2);
  std::vector<Match> matches;
  std::vector<Match> ranges;
  for (PreToken& piece : pieces) {
    matches.clear();
    ranges.clear();
    find(piece.text, matches);
    split_by_matches(piece.text.size(), matches, behavior, invert, ranges);
    for (const Match& r : ranges) {
      out.push_back({piece.text.substr(r.begin, r.end - r.begin), piece.at_start && r.begin == 0});
    }
  }
  pieces = std::move(out);
}

// Every character for which `pred` holds is its own match (HF's char patterns).
template <typename Pred>
void find_chars(const std::string& text, std::vector<Match>& matches, Pred&& pred) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t begin = pos;
    const char32_t cp = next_code_point(text, pos);
    if (pred(cp)) matches.push_back({begin, pos});
  }
}

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex, const std::string& what)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_.emplace(kGpt2Pattern, what);
  }
  void apply(std::vector<PreToken>& pieces) const override {
    if (add_prefix_space_) {
      for (PreToken& piece : pieces) {
        if (piece.text.empty() || piece.text[0] != ' ') piece.text.insert(0, " ");
      }
    }
    if (!regex_) {
      // Llama-3 style: an earlier Split did the cutting, only map here.
      std::string mapped;
      for (PreToken& piece : pieces) {
        mapped.clear();
        append_byte_level(piece.text, mapped);
        piece.text.swap(mapped);
      }
      return;
    }
    // Split and map in one pass: each pre-token is written once, already in
    // byte-level form (this is the hot loop of GPT-2 style encoding).
    std::vector<PreToken> out;
    out.reserve(pieces.size() * 4);
    std::vector<Match> matches;
    std::vector<Match> ranges;
    for (const PreToken& piece : pieces) {
      ranges.clear();
      regex_->find_all(piece.text, matches);
      split_by_matches(piece.text.size(), matches, SplitBehavior::kIsolated, false, ranges);
      for (const Match& r : ranges) {
        PreToken& mapped = out.emplace_back();
        mapped.at_start = piece.at_start && r.begin == 0;
        append_byte_level(std::string_view(piece.text).substr(r.begin, r.end - r.begin),
                          mapped.text);
      }
    }
    pieces = std::move(out);
  }

 private:
  bool add_prefix_space_;
  std::optional<Regex> regex_;
};

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(const PatternSpec& pattern, SplitBehavior behavior, bool invert,
                    const std::string& what)
      : literal_(pattern.text), behavior_(behavior), invert_(invert) {
    if (pattern.is_regex) regex_.emplace(pattern.text, what);
  }
  void apply(std::vector<PreToken>& pieces) const override {
    split_pieces(pieces, behavior_, invert_, [&](const std::string& text, std::vector<Match>& m) {
      if (regex_) {
        regex_->find_all(text, m);
      } else {
        find_literal(text, literal_, m);
      }
    });
  }

 private:
  std::string literal_;
  std::optional<Regex> regex_;
  SplitBehavior behavior_;
  bool invert_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_code_point_(replacement), scheme_(scheme), split_(split) {
    append_utf8(replacement_, replacement);
  }
  void apply(std::vector<PreToken>& pieces) const override {
    for (PreToken& piece : pieces) {
      std::string replaced;
      replaced.reserve(piece.text.size() + replacement_.size());
      for (const char c : piece.text) {
        if (c == ' ') {
          replaced += replacement_;
        } else {
          replaced += c;
        }
      }
      const bool starts_with_replacement = replaced.starts_with(replacement_);
      const bool prepend =
          scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && piece.at_start);
      if (prepend && !starts_with_replacement) replaced.insert(0, replacement_);
      piece.text = std::move(replaced);
    }
    if (split_) {
      split_pieces(pieces, SplitBehavior::kMergedWithNext, false,
                   [&](const std::string& text, std::vector<Match>& m) {
                     find_chars(text, m,
                                [&](char32_t cp) { return cp == replacement_code_point_; });
                   });
    } else {
      std::erase_if(pieces, [](const PreToken& p) { return p.text.empty(); });
    }
  }

 private:
  std::string replacement_;
  char32_t replacement_code_point_;
  PrependScheme scheme_;
  bool split_;
};

class WhitespaceSplitPreTokenizer final : public PreTokenizer {
 public:
  void apply(std::vector<PreToken>& pieces) const override {
    split_pieces(pieces, SplitBehavior::kRemoved, false,
                 [](const std::string& text, std::vector<Match>& m) {
                   find_chars(text, m, [](char32_t cp) { return is_unicode_whitespace(cp); });
                 });
  }
};

class RegexSplitPreTokenizer final : public PreTokenizer {
 public:
  RegexSplitPreTokenizer(std::string_view pattern, SplitBehavior behavior, bool invert,
                         const std::string& what)
      : regex_(pattern, what), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<PreToken>& pieces) const override {
    split_pieces(pieces, behavior_, invert_,
                 [&](const std::string& text, std::vector<Match>& m) { regex_.find_all(text, m); });
  }

 private:
  Regex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<const PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void apply(std::vector<PreToken>& pieces) const override {
    for (const auto& step : steps_) step->apply(pieces);
  }

 private:
  std::vector<std::unique_ptr<const PreTokenizer>> steps_;
};

// Rust's regex \s (White_Space), for HF's Whitespace pre-tokenizer.
constexpr std::string_view kSpaceClass =
    R"(\x{9}-\x{D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

PrependScheme parse_prepend_scheme(const nlohmann::json& j, const std::string& what) {
  if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null()) {
    const std::string scheme = json_string(j, "prepend_scheme", what);
    if (scheme == "always") return PrependScheme::kAlways;
    if (scheme == "first") return PrependScheme::kFirst;
    if (scheme == "never") return PrependScheme::kNever;
    fail(what, ": unknown prepend_scheme \"", scheme, "\"");
  }
  // Files written before prepend_scheme existed say add_prefix_space.
  return json_bool_or(j, "add_prefix_space", true, what) ? PrependScheme::kAlways
                                                         : PrependScheme::kNever;
}

}  // namespace

std::unique_ptr<const PreTokenizer> parse_pre_tokenizer(const nlohmann::json& j,
                                                        const std::string& file) {
  if (j.is_null()) return nullptr;
  const std::string what = "pre_tokenizer in " + file;
  const std::string type = json_type(j, what);
  const std::string component = type + " " + what;
  if (type == "Sequence") {
    const auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array()) fail(component, ": missing array \"pretokenizers\"");
    std::vector<std::unique_ptr<const PreTokenizer>> steps;
    for (const auto& child : *it) {
      if (auto step = parse_pre_tokenizer(child, file)) steps.push_back(std::move(step));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(
        json_bool_or(j, "add_prefix_space", true, component),
        json_bool_or(j, "use_regex", true, component), component);
  }
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(
        json_pattern(j, "pattern", component),
        parse_split_behavior(json_string(j, "behavior", component), component),
        json_bool_or(j, "invert", false, component), component);
  }
  if (type == "Metaspace") {
    return std::make_unique<MetaspacePreTokenizer>(json_char(j, "replacement", component),
                                                   parse_prepend_scheme(j, component),
                                                   json_bool_or(j, "split", true, component));
  }
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPreTokenizer>();
  if (type == "Whitespace") {
    // HF: \w+|[^\w\s]+ in Rust regex syntax.
    const std::string pattern =
        concat("[", kRustWordMembers, "]+|[^", kRustWordMembers, kSpaceClass, "]+");
    return std::make_unique<RegexSplitPreTokenizer>(pattern, SplitBehavior::kRemoved, true,
                                                    component);
  }
  if (type == "Digits") {
    const bool individual = json_bool_or(j, "individual_digits", false, component);
    return std::make_unique<RegexSplitPreTokenizer>(
        R"(\p{N})", individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false,
        component);
  }
  fail("unsupported pre_tokenizer ", type, " in ", file,
       " (supported: ByteLevel, Split, Metaspace, Sequence, Whitespace, WhitespaceSplit, "
       "Digits)");
}

}  // namespace bit_ttt::tokenizer
