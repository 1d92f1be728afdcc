#include "tokenizer/utf8.h"

#include <cstring>

namespace bit_ttt::tokenizer {

char32_t next_code_point(std::string_view text, size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const size_t n = utf8_char_len(lead);
  char32_t cp = 0;
  switch (n) {
    case 1:
      cp = lead;
      break;
    case 2:
      cp = lead & 0x1Fu;
      break;
    case 3:
      cp = lead & 0x0Fu;
      break;
    default:
      cp = lead & 0x07u;
      break;
  }
  for (size_t i = 1; i < n && pos + i < text.size(); ++i) {
    cp = (cp << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3Fu);
  }
  pos += n;
  return cp;
}

int64_t single_code_point(std::string_view text) {
  if (text.empty() || find_invalid_utf8(text) != std::string_view::npos) return -1;
  size_t pos = 0;
  const char32_t cp = next_code_point(text, pos);
  return pos == text.size() ? static_cast<int64_t>(cp) : -1;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// Sequence length for a lead byte, 0 when the byte cannot start a well-formed
// sequence (continuation bytes, C0/C1 overlong leads, F5..FF).
int sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// Whether `byte` may follow `lead` as the second byte (Unicode Table 3-7: this
// is where overlongs, surrogates and values above U+10FFFF are excluded).
bool valid_second_byte(unsigned char lead, unsigned char byte) {
  switch (lead) {
    case 0xE0:
      return byte >= 0xA0 && byte <= 0xBF;
    case 0xED:
      return byte >= 0x80 && byte <= 0x9F;
    case 0xF0:
      return byte >= 0x90 && byte <= 0xBF;
    case 0xF4:
      return byte >= 0x80 && byte <= 0x8F;
    default:
      return byte >= 0x80 && byte <= 0xBF;
  }
}

}  // namespace

size_t find_invalid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Fast path: 8 ASCII bytes at a time.
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, bytes + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    const int len = sequence_length(lead);
    if (len == 0 || i + static_cast<size_t>(len) > n) return i;
    if (!valid_second_byte(lead, bytes[i + 1])) return i;
    for (int k = 2; k < len; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return i;
    }
    i += static_cast<size_t>(len);
  }
  return std::string_view::npos;
}

bool is_unicode_whitespace(char32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

void LossyUtf8Decoder::push(std::string_view bytes, std::string& out) {
  for (const char c : bytes) push_byte(static_cast<unsigned char>(c), out);
}

void LossyUtf8Decoder::push_byte(unsigned char byte, std::string& out) {
  if (n_pending_ > 0) {
    const bool ok = n_pending_ == 1 ? valid_second_byte(pending_[0], byte) : (byte & 0xC0) == 0x80;
    if (ok) {
      pending_[n_pending_++] = byte;
      if (n_pending_ == n_needed_) {
        out.append(reinterpret_cast<const char*>(pending_), static_cast<size_t>(n_pending_));
        n_pending_ = 0;
      }
      return;
    }
    // The collected bytes are a maximal ill-formed subsequence; `byte` starts afresh.
    out.append(kReplacementChar);
    n_pending_ = 0;
  }
  const int len = sequence_length(byte);
  if (len == 1) {
    out.push_back(static_cast<char>(byte));
  } else if (len == 0) {
    out.append(kReplacementChar);
  } else {
    pending_[0] = byte;
    n_pending_ = 1;
    n_needed_ = len;
  }
}

void LossyUtf8Decoder::finish(std::string& out) {
  if (n_pending_ > 0) out.append(kReplacementChar);
  n_pending_ = 0;
}

}  // namespace bit_ttt::tokenizer
