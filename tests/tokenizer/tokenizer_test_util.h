// Shared helpers of the tokenizer tests: loading the shared tokenizers once
// per test binary, JSON files, and our own small golden files.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "bit_ttt/tokenizer.h"
#include "test_util.h"

namespace bit_ttt::testing {

// tests/tokenizer/data (golden files generated with HF tokenizers 0.23.2).
inline std::filesystem::path tokenizer_test_data_dir() {
  return std::filesystem::path(__FILE__).parent_path() / "data";
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  return nlohmann::json::parse(read_file_bytes(path));
}

// Loading Llama-3's 9 MB file takes a while: keep one copy per path.
inline Tokenizer cached_tokenizer(const std::filesystem::path& path) {
  static std::mutex mutex;
  static std::map<std::string, Tokenizer> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const auto it = cache.find(path.string());
  if (it != cache.end()) return it->second;
  Tokenizer tokenizer = Tokenizer::load(path.string());
  cache.emplace(path.string(), tokenizer);
  return tokenizer;
}

// True when `text` is well-formed UTF-8.
inline bool is_valid_utf8(const std::string& text) {
  size_t i = 0;
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  while (i < text.size()) {
    const unsigned char lead = byte(i);
    size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      len = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      len = 3;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      len = 4;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace bit_ttt::testing
