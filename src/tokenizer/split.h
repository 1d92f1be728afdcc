// Hugging Face's SplitDelimiterBehavior: how the pieces matched by a delimiter
// pattern and the text between them become pre-tokens.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace bit_ttt::tokenizer {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Parses "Removed", "Isolated", ...; `what` names the owner for errors.
SplitBehavior parse_split_behavior(std::string_view name, const std::string& what);

// Given the delimiter matches in a text of `text_size` bytes (left to right,
// non-overlapping), appends the byte ranges of the resulting non-empty pieces.
// With `invert` the matches are the kept words and the gaps the delimiters.
void split_by_matches(size_t text_size, const std::vector<Match>& matches, SplitBehavior behavior,
                      bool invert, std::vector<Match>& pieces);

// Every occurrence of `literal` (non-overlapping, left to right).
void find_literal(std::string_view text, std::string_view literal, std::vector<Match>& matches);

}  // namespace bit_ttt::tokenizer
