// GPT-2's reversible byte <-> printable character map: byte-level BPE vocabs
// store every byte as one visible Unicode character (space is 'Ġ', U+0120).
#pragma once

#include <string>
#include <string_view>

namespace bit_ttt::tokenizer {

// UTF-8 of the character standing for `byte`.
const std::string& byte_symbol(unsigned char byte);

// The byte a character stands for, or -1 for characters outside the map.
int symbol_byte(char32_t code_point);

// Appends the byte-level form of every byte of `text`.
void append_byte_level(std::string_view text, std::string& out);

}  // namespace bit_ttt::tokenizer
