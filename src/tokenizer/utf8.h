// UTF-8 helpers for the tokenizer: validation, code point iteration, the
// Unicode White_Space property, and lossy decoding that matches Rust's
// String::from_utf8_lossy (what Hugging Face decoders use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bit_ttt::tokenizer {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Bytes in the sequence a valid lead byte starts (1 for ASCII and for bytes
// that cannot lead, so loops over valid text always advance).
inline size_t utf8_char_len(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the character at text[pos] of valid UTF-8 text and advances pos.
char32_t next_code_point(std::string_view text, size_t& pos);

// Code point of a string holding exactly one character, or -1.
int64_t single_code_point(std::string_view text);

void append_utf8(std::string& out, char32_t code_point);

// Byte offset of the first ill-formed sequence, or npos if the text is valid.
size_t find_invalid_utf8(std::string_view text);

// The Unicode White_Space property (Rust's char::is_whitespace and regex \s).
bool is_unicode_whitespace(char32_t code_point);

// Incremental lossy decoding: bytes in, complete characters out; each maximal
// ill-formed subsequence becomes one U+FFFD, as in Rust's from_utf8_lossy, so
// the result is the same however the bytes are chunked.
class LossyUtf8Decoder {
 public:
  void push(std::string_view bytes, std::string& out);
  void finish(std::string& out);  // an unfinished sequence becomes U+FFFD
  bool has_pending() const { return n_pending_ > 0; }

 private:
  void push_byte(unsigned char byte, std::string& out);
  unsigned char pending_[4] = {};
  int n_pending_ = 0;
  int n_needed_ = 0;  // total length of the sequence being collected
};

}  // namespace bit_ttt::tokenizer
