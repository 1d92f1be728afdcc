#include "data/split.h"

#include "data/splitmix.h"

namespace bit_ttt::data {

uint64_t document_hash(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return splitmix64_mix(hash);
}

bool is_validation_document(std::string_view text, double val_fraction) {
  if (val_fraction <= 0) return false;
  // The top 53 bits as a double in [0, 1): exact, no rounding up to 1.
  const double unit = static_cast<double>(document_hash(text) >> 11) * 0x1.0p-53;
  return unit < val_fraction;
}

}  // namespace bit_ttt::data
