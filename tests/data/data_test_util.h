// Helpers for the data tests: a small tokenizer and token files on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bit_ttt/tokenizer.h"
#include "data/token_file.h"

namespace bit_ttt::testing {

// 256 byte tokens + <|endoftext|> (id 256, the EOS): vocab 257.
inline const Tokenizer& byte_tokenizer() {
  static const Tokenizer tokenizer =
      Tokenizer::from_json_text(byte_level_tokenizer_json({"<|endoftext|>"}), "bytes");
  return tokenizer;
}

// A committed token file holding `tokens`.
inline data::TokenFile write_token_file(const std::filesystem::path& path,
                                        const std::vector<int32_t>& tokens, uint32_t vocab_size,
                                        std::optional<int32_t> eos_id = std::nullopt,
                                        const std::string& fingerprint = "0123456789abcdef") {
  data::TokenFileWriter writer(path, vocab_size, eos_id, fingerprint);
  writer.append(tokens);
  writer.commit();
  return data::TokenFile::open(path);
}

// What prepare must write for these documents: encode(doc) + EOS each.
inline std::vector<int32_t> encode_documents(const Tokenizer& tokenizer,
                                             const std::vector<std::string>& documents) {
  std::vector<int32_t> tokens;
  for (const auto& document : documents) {
    const auto ids = tokenizer.encode(document);
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    tokens.push_back(*tokenizer.eos_id());
  }
  return tokens;
}

inline std::vector<int32_t> all_tokens(const data::TokenFile& file) {
  return file.read(0, file.n_tokens());
}

}  // namespace bit_ttt::testing
