// Byte-level BPE training (GPT-2 style, like Hugging Face `tokenizers`'
// ByteLevel BPE trainer): count the pre-token words of a corpus, learn merges,
// and write a tokenizer.json that Tokenizer::load reads.
//
// The vocab is the special tokens (ids 0..), then the 256 byte symbols in
// code point order of their GPT-2 characters (Hugging Face's alphabet order),
// then one token per merge. The most frequent pair is merged first; ties go to
// the lexicographically greatest (left bytes, right bytes), which reproduces
// the bpe-train-reference merges exactly (Hugging Face's trainer would take
// the pair with the smallest ids instead). Training splits the text on the
// special tokens first (they stay atomic) and pre-tokenizes whole texts, as
// the encoder does (Hugging Face's file trainer feeds lines instead; the two
// differ only in runs of whitespace that span a line break).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/progress.h"
#include "tokenizer/word_counter.h"

namespace bit_ttt::tokenizer {

struct BpeTrainOptions {
  int32_t vocab_size = 0;                   // specials + 256 byte symbols + merges
  std::vector<std::string> special_tokens;  // ids 0.. in this order
  int64_t min_frequency = 0;                // stop once the best pair occurs fewer times
  int n_threads = 0;                        // word counting threads, 0 = all cores
  size_t chunk_bytes = 1 << 20;             // text per counting task
  ProgressBar::Style progress = ProgressBar::Style::none;
};

struct BpeTrainResult {
  // id -> vocab key: special tokens as given, the others in byte-level form.
  std::vector<std::string> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in merge order, byte-level form
  std::vector<std::string> special_tokens;                  // ids 0 .. size-1
  // What training saw and how long it took.
  uint64_t n_bytes = 0;
  int64_t n_words = 0;
  int64_t n_distinct_words = 0;
  double count_seconds = 0;
  double merge_seconds = 0;
};

// Fails on a bad option (vocab smaller than the specials + 256 bytes, an empty,
// repeated or invalid special token) before reading any input, and when the
// input holds no text besides special tokens.
BpeTrainResult train_bpe(const std::vector<std::filesystem::path>& files,
                         const BpeTrainOptions& options);
BpeTrainResult train_bpe_on_text(std::string_view text, const BpeTrainOptions& options);
BpeTrainResult train_bpe_on_words(const WordCounts& counts, const BpeTrainOptions& options);

// A Hugging Face tokenizer.json (BPE model, merges as "a b" strings, GPT-2's
// ByteLevel pre-tokenizer / post-processor / decoder, the specials as special
// added tokens). The same result always gives the same bytes.
std::string bpe_tokenizer_json(const BpeTrainResult& result);
// The tokenizer.json of a byte-level BPE in GPT-2's layout from its parts:
// vocab by id (every special token must be in it), merges in order.
std::string byte_level_bpe_json(std::span<const std::string> vocab_by_id,
                                std::span<const std::pair<std::string, std::string>> merges,
                                std::span<const std::string> special_tokens);
// Writes it atomically (a crash leaves the old file or the whole new one).
void write_bpe_tokenizer(const std::filesystem::path& path, const BpeTrainResult& result);

}  // namespace bit_ttt::tokenizer
