// tokenizer.json "pre_tokenizer": cuts normalized text into words (pre-tokens)
// that the BPE model encodes independently; ByteLevel also rewrites each byte
// as its GPT-2 symbol.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace bit_ttt::tokenizer {

struct PreToken {
  std::string text;
  // Starts at offset 0 of the original input: Metaspace's prepend_scheme
  // "first" only adds its "▁" there.
  bool at_start = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their pre-tokens, in order, dropping empty ones.
  virtual void apply(std::vector<PreToken>& pieces) const = 0;
};

// Null for a JSON null; an Error naming the component and `file` for
// anything unsupported.
std::unique_ptr<const PreTokenizer> parse_pre_tokenizer(const nlohmann::json& j,
                                                        const std::string& file);

}  // namespace bit_ttt::tokenizer
