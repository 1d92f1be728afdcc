#include "tokenizer/word_counter_split.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

bool is_ascii_space(unsigned char byte) {
  return byte == ' ' || (byte >= '\t' && byte <= '\r');
}

// Whether the character ending right before `pos` is a well-formed character
// that is not whitespace (ill-formed text is never cut: it fails validation).
bool ends_with_non_space(std::string_view text, size_t pos) {
  size_t begin = pos - 1;
  while (begin > 0 && pos - begin < 4 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80)
    --begin;
  const std::string_view last = text.substr(begin, pos - begin);
  const int64_t cp = single_code_point(last);
  return cp >= 0 && !is_unicode_whitespace(static_cast<char32_t>(cp));
}

}  // namespace

SpecialTokenSplitter::SpecialTokenSplitter(std::vector<std::string> tokens)
    : tokens_(std::move(tokens)) {
  std::erase_if(tokens_, [](const std::string& token) { return token.empty(); });
}

size_t SpecialTokenSplitter::plain_ranges(std::string_view text, std::vector<Match>& ranges) const {
  ranges.clear();
  // next[i]: the next occurrence of token i at or after the scan position.
  std::vector<size_t> next(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) next[i] = text.find(tokens_[i]);
  size_t n_found = 0;
  size_t pos = 0;
  while (true) {
    size_t best = std::string_view::npos;
    size_t best_len = 0;
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (next[i] == std::string_view::npos) continue;
      if (next[i] < best || (next[i] == best && tokens_[i].size() > best_len)) {
        best = next[i];
        best_len = tokens_[i].size();
      }
    }
    if (best == std::string_view::npos) break;
    if (best > pos) ranges.push_back({pos, best});
    ++n_found;
    pos = best + best_len;
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (next[i] != std::string_view::npos && next[i] < pos) next[i] = text.find(tokens_[i], pos);
    }
  }
  if (pos < text.size()) ranges.push_back({pos, text.size()});
  return n_found;
}

bool SpecialTokenSplitter::crosses(std::string_view text, size_t pos) const {
  for (const std::string& token : tokens_) {
    // Only occurrences inside [pos - size + 1, pos + size - 1) can cross pos.
    const size_t from = pos >= token.size() ? pos - token.size() + 1 : 0;
    const std::string_view window = text.substr(0, std::min(text.size(), pos + token.size() - 1));
    if (window.find(token, from) != std::string_view::npos) return true;
  }
  return false;
}

size_t SpecialTokenSplitter::max_token_size() const {
  size_t n = 0;
  for (const std::string& token : tokens_) n = std::max(n, token.size());
  return n;
}

size_t last_safe_cut(std::string_view text, const SpecialTokenSplitter& specials,
                     size_t search_from) {
  // Only ASCII whitespace is looked for after the cut: it is what real text
  // has at nearly every word end, and it makes the backwards scan trivial.
  // A special token that could cross the cut must be wholly inside the text,
  // or whatever comes next might complete it.
  // So the last candidate leaves max_token_size() - 1 bytes after it (and at
  // least the one whitespace byte).
  const size_t n_after = std::max<size_t>(specials.max_token_size(), 2) - 1;
  if (text.size() <= n_after) return 0;
  for (size_t pos = text.size() - n_after + 1; pos-- > search_from + 1;) {  // pos > search_from
    if (!is_ascii_space(static_cast<unsigned char>(text[pos]))) continue;
    if (!ends_with_non_space(text, pos)) continue;
    if (specials.crosses(text, pos)) continue;
    return pos;
  }
  return 0;
}

}  // namespace bit_ttt::tokenizer
