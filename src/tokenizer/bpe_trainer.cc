#include "tokenizer/bpe_trainer.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "bit_ttt/error.h"
#include "tokenizer/bpe_trainer_merges.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

constexpr int32_t kNumBytes = 256;

void check_options(const BpeTrainOptions& options) {
  std::set<std::string> seen;
  for (const std::string& token : options.special_tokens) {
    if (token.empty()) fail("BPE training: a special token is empty");
    if (find_invalid_utf8(token) != std::string::npos)
      fail("BPE training: special token \"", token, "\" is not valid UTF-8");
    if (!seen.insert(token).second) fail("BPE training: special token \"", token, "\" is repeated");
    // It would take the id of a byte, which then could not be encoded.
    const int64_t cp = single_code_point(token);
    if (cp >= 0 && symbol_byte(static_cast<char32_t>(cp)) >= 0)
      fail("BPE training: special token \"", token, "\" is also a byte symbol");
  }
  const int64_t n_fixed = kNumBytes + static_cast<int64_t>(options.special_tokens.size());
  if (options.vocab_size < n_fixed) {
    fail("BPE training: vocab size ", options.vocab_size, " is smaller than the ", kNumBytes,
         " byte tokens + ", options.special_tokens.size(), " special tokens = ", n_fixed);
  }
  if (options.min_frequency < 0) fail("BPE training: min frequency must not be negative");
}

// Specials first, then the byte symbols sorted by code point (the order of
// Hugging Face's compute_alphabet; the GPT-2 map is not monotonic in bytes).
BpeVocab initial_vocab(const std::vector<std::string>& special_tokens) {
  BpeVocab vocab;
  for (const std::string& token : special_tokens) vocab.add(token, token);
  std::vector<std::pair<int64_t, int>> by_code_point;
  for (int byte = 0; byte < kNumBytes; ++byte) {
    const std::string& symbol = byte_symbol(static_cast<unsigned char>(byte));
    by_code_point.emplace_back(single_code_point(symbol), byte);
  }
  std::sort(by_code_point.begin(), by_code_point.end());
  for (const auto& [cp, byte] : by_code_point) {
    const unsigned char b = static_cast<unsigned char>(byte);
    vocab.byte_id[b] = vocab.add(byte_symbol(b), std::string(1, static_cast<char>(b)));
  }
  return vocab;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

WordCountOptions word_count_options(const BpeTrainOptions& options) {
  WordCountOptions counting;
  counting.special_tokens = options.special_tokens;
  counting.n_threads = options.n_threads;
  counting.chunk_bytes = options.chunk_bytes;
  counting.progress = options.progress;
  return counting;
}

}  // namespace

BpeTrainResult train_bpe_on_words(const WordCounts& counts, const BpeTrainOptions& options) {
  check_options(options);
  if (counts.words.empty()) {
    fail("BPE training: the input has no text to learn from (",
         counts.n_bytes == 0 ? "it is empty" : "only special tokens", ")");
  }
  const auto start = std::chrono::steady_clock::now();
  BpeVocab vocab = initial_vocab(options.special_tokens);
  MergeOptions merge_options;
  merge_options.vocab_size = options.vocab_size;
  merge_options.min_frequency = options.min_frequency;
  merge_options.progress = options.progress;
  const std::vector<std::pair<int32_t, int32_t>> merges =
      learn_merges(counts.words, vocab, merge_options);

  BpeTrainResult result;
  result.special_tokens = options.special_tokens;
  result.merges.reserve(merges.size());
  for (const auto& [left, right] : merges) {
    result.merges.emplace_back(vocab.key[static_cast<size_t>(left)],
                               vocab.key[static_cast<size_t>(right)]);
  }
  result.vocab = std::move(vocab.key);
  result.n_bytes = counts.n_bytes;
  result.n_words = counts.n_words;
  result.n_distinct_words = static_cast<int64_t>(counts.words.size());
  result.count_seconds = counts.seconds;
  result.merge_seconds = seconds_since(start);
  return result;
}

BpeTrainResult train_bpe(const std::vector<std::filesystem::path>& files,
                         const BpeTrainOptions& options) {
  check_options(options);
  if (files.empty()) fail("BPE training: no input files");
  return train_bpe_on_words(count_words(files, word_count_options(options)), options);
}

BpeTrainResult train_bpe_on_text(std::string_view text, const BpeTrainOptions& options) {
  check_options(options);
  return train_bpe_on_words(count_words_in_text(text, word_count_options(options)), options);
}

}  // namespace bit_ttt::tokenizer
