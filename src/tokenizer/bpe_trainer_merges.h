// The merge loop of BPE training: repeatedly merges the most frequent pair of
// adjacent tokens over all counted words. Pair counts are updated
// incrementally (only the words that hold the merged pair are touched) and the
// best pair comes from a priority queue whose stale entries are skipped or
// re-queued when popped, so a merge costs about the size of what it changes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/progress.h"

namespace bit_ttt::tokenizer {

// The token table that the merge loop grows.
struct BpeVocab {
  std::vector<std::string> key;    // id -> tokenizer.json vocab key (byte-level form)
  std::vector<std::string> bytes;  // id -> the UTF-8 bytes it stands for (ties compare these)
  std::unordered_map<std::string, int32_t> id_of_key;
  std::array<int32_t, 256> byte_id{};  // the single-byte tokens

  int32_t size() const { return static_cast<int32_t>(key.size()); }
  // The id of `key_text`, added with `raw` bytes if it is new.
  int32_t add(const std::string& key_text, const std::string& raw);
};

struct MergeOptions {
  int32_t vocab_size = 0;     // stop once the vocab has this many tokens
  int64_t min_frequency = 0;  // stop once the best pair occurs fewer times
  ProgressBar::Style progress = ProgressBar::Style::none;
};

// Learns merges over `words` (UTF-8 bytes and counts), adding the merged
// tokens to `vocab`. The best pair is the most frequent one; ties go to the
// pair whose (left bytes, right bytes) is lexicographically greatest, as in
// the bpe-train-reference data. A merge whose token already exists (same bytes
// from another split) reuses its id, as Hugging Face's trainer does.
std::vector<std::pair<int32_t, int32_t>> learn_merges(
    const std::vector<std::pair<std::string, int64_t>>& words, BpeVocab& vocab,
    const MergeOptions& options);

}  // namespace bit_ttt::tokenizer
