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
static_assert(256 + 68 <= 0x800, "every symbol is at most 2 UTF-8 bytes");

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

}  // namespace

const std::string& byte_symbol(unsigned char byte) {
  return byte_map().symbols[byte];
}

int symbol_byte(char32_t cp) {
  const auto& table = byte_map().bytes_of_code_point;
  return cp < table.size() ? table[cp] : -1;
}

void append_byte_level(std::string_view text, std::string& out) {
  // Hot in encode: write the 1-2 byte symbols straight into the buffer.
  const auto& symbols = byte_map().symbols;
  const size_t old_size = out.size();
  out.resize(old_size + 2 * text.size());
  char* dst = out.data() + old_size;
  for (const char c : text) {
    const std::string& symbol = symbols[static_cast<unsigned char>(c)];
    dst[0] = symbol[0];
    if (symbol.size() == 2) dst[1] = symbol[1];
    dst += symbol.size();
  }
  out.resize(static_cast<size_t>(dst - out.data()));
}

}  // namespace bit_ttt::tokenizer
