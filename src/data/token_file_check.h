// Refusing to train on tokens from a different tokenizer: the ids would be
// silently meaningless, so a mismatch is a hard error naming both sides.
#pragma once

#include <cstdint>
#include <string_view>

#include "bit_ttt/tokenizer.h"
#include "data/token_file.h"

namespace bit_ttt::data {

// The file must have been written with this tokenizer: same fingerprint and
// same vocab size.
void check_token_file_matches(const TokenFile& file, const Tokenizer& tokenizer);

// For a model that records its tokenizer's fingerprint: the fingerprints must
// be equal (an empty `fingerprint` means the model records none and skips that
// check), and every id in the file must have an embedding row, i.e. the file's
// vocab size must be <= the model's (models may pad their vocab, e.g. 50304).
void check_token_file_matches(const TokenFile& file, int64_t model_vocab_size,
                              std::string_view fingerprint);

}  // namespace bit_ttt::data
