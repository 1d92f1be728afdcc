// FNV-1a 64: a stable, dependency-free hash for tokenizer fingerprints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bit_ttt::tokenizer {

class Fnv1a64 {
 public:
  void add(std::string_view bytes) {
    for (const char c : bytes) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 0x100000001b3ull;
    }
  }
  // Fields are length-prefixed so that ("ab","c") and ("a","bc") differ.
  void add_field(std::string_view bytes) {
    add(std::to_string(bytes.size()));
    add(":");
    add(bytes);
  }
  void add_int(int64_t value) { add_field(std::to_string(value)); }
  std::string hex() const;

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

}  // namespace bit_ttt::tokenizer
