// byte_level_tokenizer_json: the untrained tokenizer of a freshly initialised
// model, one token per byte plus the requested special tokens.
#include <set>

#include "bit_ttt/error.h"
#include "bit_ttt/tokenizer.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace bit_ttt {

std::string byte_level_tokenizer_json(const std::vector<std::string>& special_tokens) {
  // Ids 0..255 are the bytes in value order, then the special tokens.
  std::vector<std::string> vocab;
  std::set<std::string> seen;
  for (int byte = 0; byte < 256; ++byte) {
    vocab.push_back(tokenizer::byte_symbol(static_cast<unsigned char>(byte)));
    seen.insert(vocab.back());
  }
  for (const std::string& token : special_tokens) {
    if (token.empty()) fail("byte_level_tokenizer_json: empty special token");
    if (tokenizer::find_invalid_utf8(token) != std::string::npos)
      fail("byte_level_tokenizer_json: special token is not valid UTF-8");
    if (!seen.insert(token).second)
      fail("byte_level_tokenizer_json: special token \"", token,
           "\" is repeated or is already a byte symbol");
    vocab.push_back(token);
  }
  return tokenizer::byte_level_bpe_json(vocab, {}, special_tokens);
}

}  // namespace bit_ttt
