// PCRE2 regexes for tokenizer.json patterns (Hugging Face compiles them with
// Oniguruma; PCRE2 in UTF + UCP mode reads these patterns the same way).
// Compiled once with JIT; matching uses per-thread scratch, so a Regex is
// safe to share between threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pcre2_real_code_8;

namespace bit_ttt::tokenizer {

struct Match {
  size_t begin;
  size_t end;
};

class Regex {
 public:
  // `what` names the pattern's owner in errors, e.g. "Split pre-tokenizer in FILE".
  Regex(std::string_view pattern, const std::string& what);

  // Every match left to right, like Rust's find_iter: an empty match right
  // after the previous match is skipped. `text` must be valid UTF-8.
  void find_all(std::string_view text, std::vector<Match>& matches) const;
  // First match at or after `start`; false when there is none.
  bool find(std::string_view text, size_t start, Match& match) const;

 private:
  std::shared_ptr<pcre2_real_code_8> code_;
  std::string what_;
};

// Rewrites \p{L}, \p{N}, \s, \d, \w, \h (and their negations outside
// classes) so PCRE2 matches the same characters as Hugging Face's Oniguruma:
// its Unicode tables are newer, its \s is exactly White_Space, its \w
// includes marks, and its \h means a hex digit.
std::string oniguruma_compatible(std::string_view pattern);

// Class members (for use inside [...]) of Rust's regex \w, which HF itself
// uses for added tokens' single_word and the Whitespace pre-tokenizer.
inline constexpr std::string_view kRustWordMembers =
    R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D})";

// The pattern matching exactly `literal`.
std::string escape_regex(std::string_view literal);

}  // namespace bit_ttt::tokenizer
