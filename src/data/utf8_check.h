// UTF-8 validation for corpus text, so that `prepare` can name the exact file
// byte offset of a bad byte (the tokenizer only knows offsets within one
// document) and can skip bad documents before they reach the tokenizer.
#pragma once

#include <cstddef>
#include <string_view>

namespace bit_ttt::data {

inline constexpr size_t kValidUtf8 = static_cast<size_t>(-1);

// Offset of the first byte of the first ill-formed sequence, or kValidUtf8.
// Strict Unicode rules: no overlong forms, no surrogates, nothing past U+10FFFF.
size_t find_invalid_utf8(std::string_view text);

}  // namespace bit_ttt::data
