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
  // Token of each id; ids_with_token_[id] says whether the id is used.
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
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  std::string file_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> vocab_;
  std::vector<std::string> tokens_by_id_;
  std::vector<bool> has_token_;
  std::unordered_map<uint64_t, MergeResult> merges_;
  std::vector<std::pair<int32_t, int32_t>> merge_list_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  std::optional<std::string> unk_token_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  int32_t byte_fallback_ids_[256];  // id of "<0xNN>", -1 when missing
  WordCache cache_;
};

}  // namespace bit_ttt::tokenizer
