// byte_level_tokenizer_json: the untrained tokenizer of a freshly initialised
// model, one token per byte plus the requested special tokens.
#include <nlohmann/json.hpp>
#include <set>

#include "bit_ttt/error.h"
#include "bit_ttt/tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace bit_ttt {

std::string byte_level_tokenizer_json(const std::vector<std::string>& special_tokens) {
  using Json = nlohmann::ordered_json;
  Json vocab = Json::object();
  std::set<std::string> seen;
  for (int byte = 0; byte < 256; ++byte) {
    const std::string& symbol = tokenizer::byte_symbol(static_cast<unsigned char>(byte));
    vocab[symbol] = byte;
    seen.insert(symbol);
  }
  Json added = Json::array();
  int32_t next_id = 256;
  for (const std::string& token : special_tokens) {
    if (token.empty()) fail("byte_level_tokenizer_json: empty special token");
    if (tokenizer::find_invalid_utf8(token) != std::string::npos) {
      fail("byte_level_tokenizer_json: special token is not valid UTF-8");
    }
    if (!seen.insert(token).second) {
      fail("byte_level_tokenizer_json: special token \"", token,
           "\" is repeated or is already a byte symbol");
    }
    vocab[token] = next_id;
    added.push_back(Json{{"id", next_id},
                         {"content", token},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    ++next_id;
  }
  const Json byte_level = {{"type", "ByteLevel"},
                           {"add_prefix_space", false},
                           {"trim_offsets", true},
                           {"use_regex", true}};
  Json root = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", byte_level},
      {"post_processor", byte_level},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", Json::array()}}},
  };
  return root.dump(2);
}

}  // namespace bit_ttt
