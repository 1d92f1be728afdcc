#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

// Rust's regex \w (Unicode word characters), used by HF for single_word.
constexpr std::string_view kWordChar = R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}])";

size_t previous_char_start(std::string_view text, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return start;
}

}  // namespace

bool AddedTokenMatcher::is_word_char(std::string_view one_char) const {
  Match m{};
  return word_char_.find(one_char, 0, m);
}

bool AddedTokenMatcher::ends_with_word(std::string_view text) const {
  if (text.empty()) return false;
  const size_t start = previous_char_start(text, text.size());
  return is_word_char(text.substr(start));
}

bool AddedTokenMatcher::starts_with_word(std::string_view text) const {
  if (text.empty()) return false;
  return is_word_char(text.substr(0, utf8_char_len(static_cast<unsigned char>(text[0]))));
}

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens, bool match_normalized,
                                     const Normalizer* normalizer)
    : word_char_(kWordChar, "added-token word check") {
  trie_.emplace_back();
  for (const AddedToken& token : tokens) {
    if (token.normalized != match_normalized || token.content.empty()) continue;
    std::string text = token.content;
    if (match_normalized && normalizer != nullptr) normalizer->normalize(text);
    if (text.empty()) continue;
    int32_t node = 0;
    for (const char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      int32_t child = -1;
      for (const auto& [b, index] : trie_[static_cast<size_t>(node)].children) {
        if (b == byte) child = index;
      }
      if (child < 0) {
        child = static_cast<int32_t>(trie_.size());
        trie_[static_cast<size_t>(node)].children.emplace_back(byte, child);
        trie_.emplace_back();
      }
      node = child;
    }
    // The same text twice: the later token wins, like a map insert.
    int32_t& slot = trie_[static_cast<size_t>(node)].pattern;
    if (slot < 0) {
      slot = static_cast<int32_t>(patterns_.size());
      patterns_.push_back({text, &token});
    } else {
      patterns_[static_cast<size_t>(slot)].token = &token;
    }
    first_byte_[static_cast<unsigned char>(text[0])] = true;
  }
}

int32_t AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t& end) const {
  int32_t node = 0;
  int32_t best = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int32_t child = -1;
    for (const auto& [b, index] : trie_[static_cast<size_t>(node)].children) {
      if (b == byte) {
        child = index;
        break;
      }
    }
    if (child < 0) break;
    node = child;
    if (trie_[static_cast<size_t>(node)].pattern >= 0) {
      best = trie_[static_cast<size_t>(node)].pattern;
      end = i + 1;
    }
  }
  return best;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextSegment>& segments) const {
  segments.clear();
  size_t start_offset = 0;  // end of the last emitted segment
  size_t scan = 0;
  while (!patterns_.empty() && scan < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[scan])]) {
      ++scan;
      continue;
    }
    size_t stop = 0;
    const int32_t pattern = longest_at(text, scan, stop);
    if (pattern < 0) {
      ++scan;
      continue;
    }
    // Mirrors HF's find_matches: segments may overlap when an rstrip took
    // text that a later match also covers; HF emits both, and so do we.
    size_t start = scan;
    scan = stop;  // the matcher resumes after the match, used or not
    const AddedToken& token = *patterns_[static_cast<size_t>(pattern)].token;
    if (token.single_word && (ends_with_word(text.substr(0, start)) ||
                              starts_with_word(text.substr(stop)))) {
      continue;
    }
    if (token.lstrip) {
      size_t new_start = start;
      while (new_start > 0) {
        const size_t prev = previous_char_start(text, new_start);
        size_t next = prev;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        new_start = prev;
      }
      start = std::max(new_start, start_offset);
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t next = stop;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        stop = next;
      }
    }
    if (start_offset < start) segments.push_back({start_offset, start, -1});
    segments.push_back({start, stop, token.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) segments.push_back({start_offset, text.size(), -1});
}

}  // namespace bit_ttt::tokenizer
