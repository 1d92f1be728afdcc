// Cutting training text into pieces that can be pre-tokenized independently:
// special tokens are cut out first (they never take part in merges), and a
// stream is cut into chunks only where the GPT-2 pre-tokenizer cannot see
// across the cut, so that counting chunk by chunk (and in parallel) counts
// exactly the words that pre-tokenizing the whole text would produce.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace bit_ttt::tokenizer {

class SpecialTokenSplitter {
 public:
  explicit SpecialTokenSplitter(std::vector<std::string> tokens);

  // The stretches of text between special tokens (leftmost-longest matching,
  // as Hugging Face matches added tokens); empty stretches are dropped.
  // Returns the number of special tokens found.
  size_t plain_ranges(std::string_view text, std::vector<Match>& ranges) const;

  // True when an occurrence of some special token starts before `pos` and
  // ends after it, i.e. cutting the text at `pos` could break it in two.
  bool crosses(std::string_view text, size_t pos) const;
  size_t max_token_size() const;

 private:
  std::vector<std::string> tokens_;
};

// The largest cut 0 < p <= text.size() at which pre-tokenizing text[0, p) and
// text[p, ...) separately gives the same words as pre-tokenizing the whole
// (whatever follows the text), or 0 when `text` has none. A cut is safe
// between a non-whitespace character and a whitespace one: no alternative of
// the GPT-2 pattern matches across such a pair, the pattern has no lookbehind,
// and no special token may cross the cut.
// Cuts at or before `search_from` are not looked at (a caller that appends to
// a buffer passes where the unsearched bytes start, minus the longest special
// token, so a long line without a cut is not scanned again and again).
size_t last_safe_cut(std::string_view text, const SpecialTokenSplitter& specials,
                     size_t search_from = 0);

}  // namespace bit_ttt::tokenizer
