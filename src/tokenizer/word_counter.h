// Counting the words (pre-tokens) of BPE training text: the text is split on
// special tokens and cut into words by the GPT-2 ByteLevel pattern, exactly as
// the tokenizer's encoder cuts it, and each distinct word is counted once in a
// hash map. Files are streamed in chunks cut where no word can span the cut,
// so memory grows with the number of distinct words, not with the corpus
// (except for a line longer than a chunk with no cut in it, held whole).
// Chunks are counted in parallel; the result does not depend on the thread
// count or the chunk size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/progress.h"

namespace bit_ttt::tokenizer {

// The pattern of the ByteLevel pre-tokenizer with use_regex (GPT-2's); the
// trained tokenizer.json names ByteLevel, so training must split the same way.
inline constexpr std::string_view kGpt2PreTokenizerPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct WordCountOptions {
  std::vector<std::string> special_tokens;  // cut out of the text, never counted as words
  int n_threads = 0;                        // 0 = all hardware threads
  size_t chunk_bytes = 1 << 20;             // text per task (about; cuts move it)
  ProgressBar::Style progress = ProgressBar::Style::none;
};

struct WordCounts {
  // Every distinct word (the UTF-8 bytes of a pre-token, before the byte-level
  // mapping) with its number of occurrences, sorted by bytes.
  std::vector<std::pair<std::string, int64_t>> words;
  uint64_t n_bytes = 0;   // text read
  int64_t n_words = 0;    // word occurrences
  int64_t n_special = 0;  // special token occurrences
  double seconds = 0;
};

// Each file is a separate text (no word spans two files). Fails naming the
// file for unreadable files and for invalid UTF-8 (with its byte offset).
WordCounts count_words(const std::vector<std::filesystem::path>& files,
                       const WordCountOptions& options);
WordCounts count_words_in_text(std::string_view text, const WordCountOptions& options);

}  // namespace bit_ttt::tokenizer
