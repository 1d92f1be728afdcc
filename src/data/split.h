// The deterministic train/validation split of `prepare`.
#pragma once

#include <cstdint>
#include <string_view>

namespace bit_ttt::data {

// 64-bit hash of a document's text (FNV-1a 64, then splitmix64's finaliser so
// that the top bits are well mixed).
uint64_t document_hash(std::string_view text);

// A document goes to validation when its hash, as a fraction of 2^64, is below
// val_fraction. Depending only on the text makes the split independent of file
// order, chunking and thread count, and puts exact duplicates on the same side,
// so duplicated text cannot leak from train into validation.
bool is_validation_document(std::string_view text, double val_fraction);

}  // namespace bit_ttt::data
