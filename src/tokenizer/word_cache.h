// Bounded, thread-safe cache from a pre-token to its BPE ids: natural text
// repeats a small set of words, so most words skip the merge loop entirely.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bit_ttt::tokenizer {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class WordCache {
 public:
  // Appends the cached ids of `word` to `out`; false when absent.
  bool find(std::string_view word, std::vector<int32_t>& out) const;
  void insert(std::string_view word, const int32_t* ids, size_t n_ids) const;

  static constexpr size_t kMaxWordBytes = 96;  // longer words are rare and costly to key

 private:
  // Sharded so threads encoding different words rarely share a lock; a full
  // shard is simply cleared, which keeps memory bounded and adapts to the text.
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxEntriesPerShard = 4096;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
  };
  Shard& shard_for(std::string_view word) const {
    return shards_[(StringHash{}(word) >> 7) % kShards];
  }
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace bit_ttt::tokenizer
