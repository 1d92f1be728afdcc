#include "tokenizer/word_cache.h"

namespace bit_ttt::tokenizer {

bool WordCache::find(std::string_view word, std::vector<int32_t>& out) const {
  Shard& shard = shard_for(word);
  std::lock_guard<std::mutex> lock(shard.mutex);
  const auto it = shard.map.find(word);
  if (it == shard.map.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::insert(std::string_view word, const int32_t* ids, size_t n_ids) const {
  Shard& shard = shard_for(word);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.map.size() >= kMaxEntriesPerShard) shard.map.clear();
  shard.map.try_emplace(std::string(word), ids, ids + n_ids);
}

}  // namespace bit_ttt::tokenizer
