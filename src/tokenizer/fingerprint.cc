#include "tokenizer/fingerprint.h"

#include <cstdio>

namespace bit_ttt::tokenizer {

std::string Fnv1a64::hex() const {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(hash_));
  return buffer;
}

}  // namespace bit_ttt::tokenizer
