#include "data/token_file_check.h"

#include "bit_ttt/error.h"

namespace bit_ttt::data {

void check_token_file_matches(const TokenFile& file, const Tokenizer& tokenizer) {
  const std::string fingerprint = tokenizer.fingerprint();
  if (file.fingerprint() != fingerprint)
    fail(file.path().string(), ": written with a different tokenizer: file fingerprint ",
         file.fingerprint(), " (vocab ", file.vocab_size(), "), tokenizer ",
         tokenizer.source_name(), " fingerprint ", fingerprint, " (vocab ", tokenizer.vocab_size(),
         "); run prepare again with this tokenizer");
  if (static_cast<int64_t>(file.vocab_size()) != tokenizer.vocab_size())
    fail(file.path().string(), ": vocab size ", file.vocab_size(), " differs from tokenizer ",
         tokenizer.source_name(), " vocab size ", tokenizer.vocab_size(), " (fingerprint ",
         fingerprint, ")");
}

void check_token_file_matches(const TokenFile& file, int64_t model_vocab_size,
                              std::string_view fingerprint) {
  if (!fingerprint.empty() && file.fingerprint() != fingerprint)
    fail(file.path().string(), ": written with a different tokenizer: file fingerprint ",
         file.fingerprint(), ", model's tokenizer fingerprint ", fingerprint,
         "; run prepare again with the model's tokenizer");
  if (static_cast<int64_t>(file.vocab_size()) > model_vocab_size)
    fail(file.path().string(), ": token vocab size ", file.vocab_size(),
         " is larger than the model's vocab size ", model_vocab_size,
         " (ids past the model's embedding table)");
}

}  // namespace bit_ttt::data
