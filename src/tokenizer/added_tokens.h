// tokenizer.json "added_tokens": tokens matched in the raw text before the
// normalizer and model run (special tokens like <|endoftext|>, chat markers).
// Matching is leftmost-longest like HF's Aho-Corasick, and honours
// single_word, lstrip, rstrip and normalized.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace bit_ttt::tokenizer {

class Normalizer;

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
};

// A byte range of the text, either an added token (token_id >= 0) or plain
// text to normalize and tokenize (token_id == -1).
struct TextSegment {
  size_t begin;
  size_t end;
  int32_t token_id;
};

class AddedTokenMatcher {
 public:
  // Matches the `normalized` == `match_normalized` subset of `tokens`; those
  // that are normalized are matched in their normalized form.
  AddedTokenMatcher(const std::vector<AddedToken>& tokens, bool match_normalized,
                    const Normalizer* normalizer);

  bool empty() const { return patterns_.empty(); }
  // Cuts `text` into segments covering it (empty plain segments dropped).
  void split(std::string_view text, std::vector<TextSegment>& segments) const;

 private:
  struct Pattern {
    std::string text;
    const AddedToken* token;
  };
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;
    int32_t pattern = -1;  // pattern ending here
  };
  // Longest pattern starting at `pos`, or -1.
  int32_t longest_at(std::string_view text, size_t pos, size_t& end) const;
  bool is_word_char(std::string_view one_char) const;
  bool ends_with_word(std::string_view text) const;
  bool starts_with_word(std::string_view text) const;

  std::vector<Pattern> patterns_;
  std::vector<Node> trie_;
  bool first_byte_[256] = {};
  Regex word_char_;  // Rust regex \w, for single_word
};

}  // namespace bit_ttt::tokenizer
