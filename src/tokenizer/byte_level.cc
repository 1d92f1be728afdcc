#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

// Printable Latin-1 bytes stand for themselves; the other 68 bytes get
// U+0100.. in byte order, which keeps every symbol a visible character.
bool is_self_mapped(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

struct ByteMap {
  std::array<std::string, 256> symbols;
  std::array<int, 256 + 68> bytes_of_code_point;  // code points < 324 cover the map
  ByteMap() {
    bytes_of_code_point.fill(-1);
    int n_shifted = 0;
    for (int byte = 0; byte < 256; ++byte) {
      const int cp = is_self_mapped(byte) ? byte : 256 + n_shifted++;
      append_utf8(symbols[static_cast<size_t>(byte)], static_cast<char32_t>(cp));
      bytes_of_code_point[static_cast<size_t>(cp)] = byte;
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

}  // namespace

const std::string& byte_symbol(unsigned char byte) { return byte_map().symbols[byte]; }

int symbol_byte(char32_t cp) {
  const auto& table = byte_map().bytes_of_code_point;
  return cp < table.size() ? table[cp] : -1;
}

void append_byte_level(std::string_view text, std::string& out) {
  const auto& symbols = byte_map().symbols;
  for (const char c : text) out.append(symbols[static_cast<unsigned char>(c)]);
}

}  // namespace bit_ttt::tokenizer
