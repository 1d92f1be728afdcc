// The tokenizer.json "model" of type BPE: vocab, ranked merges, and the
// per-word merge loop (Hugging Face's priority-queue algorithm, O(n log n) in
// the word length, so a whole document as one SentencePiece word is fine).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/word_cache.h"

namespace bit_ttt::tokenizer {

class BpeModel {
 public:
  // Parses the "model" object; Errors name `file` and what is wrong.
  BpeModel(const nlohmann::json& model, const std::string& file);
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-token. Thread-safe.
  void tokenize(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Number of vocab entries (HF's get_vocab_size, which numbers new added tokens).
  size_t n_vocab_entries() const { return vocab_.size(); }
  // Token of each id; has_token()[id] says whether the id is used.
  const std::vector<std::string>& tokens_by_id() const { return tokens_by_id_; }
  const std::vector<bool>& has_token() const { return has_token_; }
  // Merges in rank order as (left, right) ids, for the fingerprint.
  const std::vector<std::pair<int32_t, int32_t>>& merges_in_rank_order() const {
    return merge_list_;
  }

 private:
  struct MergeResult {
    uint32_t rank;
    int32_t new_id;
  };
  // Open addressing keyed by the (left, right) id pair: the merge loop's hot
  // lookup, and much cheaper to build than a node-based map for 280k merges.
  class MergeMap {
   public:
    void reserve(size_t n);
    void insert_or_assign(uint64_t key, MergeResult value);
    const MergeResult* find(uint64_t key) const;

   private:
    static constexpr uint64_t kEmpty = ~0ull;  // ids are < 2^31, so never a real key
    static size_t slot_of(uint64_t key, size_t mask) {
      return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
    }
    std::vector<uint64_t> keys_;
    std::vector<MergeResult> values_;
    size_t n_used_ = 0;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  // One word without cutting: the cache, then ignore_merges, then merges.
  void tokenize_piece(std::string_view word, std::vector<int32_t>& out) const;
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  std::string file_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> vocab_;
  std::vector<std::string> tokens_by_id_;
  std::vector<bool> has_token_;
  MergeMap merges_;
  std::vector<std::pair<int32_t, int32_t>> merge_list_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  std::optional<std::string> unk_token_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  int32_t byte_fallback_ids_[256];  // id of "<0xNN>", -1 when missing
  // SentencePiece-style models see a whole text as one word. When no merge
  // result has this marker ("▁") right after another character, no merge can
  // cross the start of a run of markers, so a long word is cut there into
  // pieces that merge independently (same result) and hit the cache.
  std::string split_marker_;
  WordCache cache_;
};

}  // namespace bit_ttt::tokenizer
