#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t n_bytes;  // 0 once merged into its left neighbour
};

struct Candidate {
  uint32_t rank;
  uint32_t pos;
  int32_t new_id;
};

// Heap order: lowest rank first, then leftmost position (HF's Merge ordering).
struct LowerPriority {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

// Per-thread buffers: the merge loop allocates nothing in steady state.
struct MergeScratch {
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
  std::vector<int32_t> ids;
};

MergeScratch& merge_scratch() {
  thread_local MergeScratch scratch;
  return scratch;
}

std::string byte_fallback_token(unsigned byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "<0x%02X>", byte);
  return buffer;
}

std::pair<std::string, std::string> parse_merge(const nlohmann::json& merge, size_t index,
                                                const std::string& what) {
  if (merge.is_string()) {
    const std::string& text = merge.get_ref<const std::string&>();
    const size_t space = text.find(' ');
    if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
      fail(what, ": merges[", index, "] \"", text, "\" is not two tokens separated by one space");
    }
    return {text.substr(0, space), text.substr(space + 1)};
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
    return {merge[0].get<std::string>(), merge[1].get<std::string>()};
  }
  fail(what, ": merges[", index, "] must be \"a b\" or [\"a\", \"b\"], got ", merge.dump());
}

// Whether `marker` occurs in `merged` after a character other than `marker`.
bool marker_inside(std::string_view merged, std::string_view marker) {
  for (size_t pos = merged.find(marker, 1); pos != std::string_view::npos;
       pos = merged.find(marker, pos + 1)) {
    if (pos < marker.size() || merged.substr(pos - marker.size(), marker.size()) != marker) {
      return true;
    }
  }
  return false;
}

constexpr int64_t kMaxTokenId = int64_t{1} << 24;

constexpr std::string_view kSentencePieceMarker = "\xE2\x96\x81";  // U+2581 "▁"

}  // namespace

void BpeModel::MergeMap::reserve(size_t n) {
  size_t capacity = 16;
  while (capacity < n * 2) capacity *= 2;  // load factor <= 1/2
  std::vector<uint64_t> old_keys = std::move(keys_);
  std::vector<MergeResult> old_values = std::move(values_);
  keys_.assign(capacity, kEmpty);
  values_.assign(capacity, MergeResult{0, 0});
  n_used_ = 0;
  for (size_t i = 0; i < old_keys.size(); ++i) {
    if (old_keys[i] != kEmpty) insert_or_assign(old_keys[i], old_values[i]);
  }
}

void BpeModel::MergeMap::insert_or_assign(uint64_t key, MergeResult value) {
  if ((n_used_ + 1) * 2 > keys_.size()) reserve(n_used_ + 1);
  const size_t mask = keys_.size() - 1;
  size_t slot = slot_of(key, mask);
  while (keys_[slot] != kEmpty && keys_[slot] != key) slot = (slot + 1) & mask;
  if (keys_[slot] == kEmpty) ++n_used_;
  keys_[slot] = key;
  values_[slot] = value;
}

const BpeModel::MergeResult* BpeModel::MergeMap::find(uint64_t key) const {
  if (keys_.empty()) return nullptr;
  const size_t mask = keys_.size() - 1;
  for (size_t slot = slot_of(key, mask);; slot = (slot + 1) & mask) {
    if (keys_[slot] == key) return &values_[slot];
    if (keys_[slot] == kEmpty) return nullptr;
  }
}

BpeModel::BpeModel(const nlohmann::json& model, const std::string& file) : file_(file) {
  const std::string what = "BPE model in " + file;
  const auto dropout = model.find("dropout");
  if (dropout != model.end() && !dropout->is_null() &&
      !(dropout->is_number() && dropout->get<double>() == 0.0)) {
    fail("unsupported BPE dropout ", dropout->dump(), " in ", file,
         " (encoding must be deterministic; set \"dropout\": null)");
  }
  continuing_subword_prefix_ = json_string_or(model, "continuing_subword_prefix", "", what);
  end_of_word_suffix_ = json_string_or(model, "end_of_word_suffix", "", what);
  if (model.contains("unk_token") && !model["unk_token"].is_null()) {
    unk_token_ = json_string(model, "unk_token", what);
  }
  fuse_unk_ = json_bool_or(model, "fuse_unk", false, what);
  byte_fallback_ = json_bool_or(model, "byte_fallback", false, what);
  ignore_merges_ = json_bool_or(model, "ignore_merges", false, what);

  const auto vocab = model.find("vocab");
  if (vocab == model.end() || !vocab->is_object()) fail(what, ": missing object \"vocab\"");
  vocab_.reserve(vocab->size());
  int64_t max_id = -1;
  for (const auto& [token, id_json] : vocab->items()) {
    if (!id_json.is_number_integer()) fail(what, ": vocab entry \"", token, "\" has no integer id");
    const int64_t id = id_json.get<int64_t>();
    // Ids index dense tables: a stray huge id would mean gigabytes of them.
    if (id < 0 || id >= kMaxTokenId) {
      fail(what, ": vocab entry \"", token, "\" has id ", id, " outside [0, ", kMaxTokenId, ")");
    }
    vocab_.emplace(token, static_cast<int32_t>(id));
    max_id = std::max(max_id, id);
  }
  tokens_by_id_.resize(static_cast<size_t>(max_id + 1));
  has_token_.resize(static_cast<size_t>(max_id + 1), false);
  for (const auto& [token, id] : vocab_) {
    // Two tokens sharing an id: keep the lexicographically smallest, so the
    // result does not depend on hash order.
    const auto index = static_cast<size_t>(id);
    if (!has_token_[index] || token < tokens_by_id_[index]) tokens_by_id_[index] = token;
    has_token_[index] = true;
  }
  for (unsigned byte = 0; byte < 256; ++byte) {
    const auto it = vocab_.find(byte_fallback_token(byte));
    byte_fallback_ids_[byte] = it == vocab_.end() ? -1 : it->second;
  }

  bool marker_in_merges = false;
  const auto merges = model.find("merges");
  if (merges != model.end() && !merges->is_null()) {
    if (!merges->is_array()) fail(what, ": \"merges\" must be an array");
    merges_.reserve(merges->size());
    merge_list_.reserve(merges->size());
    for (size_t rank = 0; rank < merges->size(); ++rank) {
      const auto [left, right] = parse_merge((*merges)[rank], rank, what);
      std::string_view right_rest = right;
      if (!continuing_subword_prefix_.empty() &&
          right_rest.starts_with(continuing_subword_prefix_)) {
        right_rest.remove_prefix(continuing_subword_prefix_.size());
      }
      const std::string merged = left + std::string(right_rest);
      const auto left_it = vocab_.find(left);
      const auto right_it = vocab_.find(right);
      const auto merged_it = vocab_.find(merged);
      if (left_it == vocab_.end() || right_it == vocab_.end() || merged_it == vocab_.end()) {
        const std::string& missing = left_it == vocab_.end()    ? left
                                     : right_it == vocab_.end() ? right
                                                                : merged;
        fail(what, ": merges[", rank, "] (\"", left, "\", \"", right, "\") needs token \"", missing,
             "\" which is not in the vocab");
      }
      // A repeated pair keeps its last rank, as HF's map construction does.
      merges_.insert_or_assign(pair_key(left_it->second, right_it->second),
                               {static_cast<uint32_t>(rank), merged_it->second});
      merge_list_.emplace_back(left_it->second, right_it->second);
      marker_in_merges = marker_in_merges || marker_inside(merged, kSentencePieceMarker);
    }
  }
  // Word-position dependent affixes would change at a cut, and ignore_merges
  // looks at the whole word: no cutting then.
  if (!ignore_merges_ && continuing_subword_prefix_.empty() && end_of_word_suffix_.empty() &&
      vocab_.contains(kSentencePieceMarker) && !marker_in_merges) {
    split_marker_ = kSentencePieceMarker;
  }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.size() > WordCache::kMaxWordBytes && !split_marker_.empty()) {
    // Cut before each run of markers (see split_marker_).
    const std::string_view marker = split_marker_;
    size_t begin = 0;
    for (size_t pos = word.find(marker, 1); pos != std::string_view::npos;
         pos = word.find(marker, pos + marker.size())) {
      if (pos >= marker.size() && word.substr(pos - marker.size(), marker.size()) == marker) {
        continue;  // inside a run
      }
      tokenize_piece(word.substr(begin, pos - begin), out);
      begin = pos;
    }
    tokenize_piece(word.substr(begin), out);
    return;
  }
  tokenize_piece(word, out);
}

void BpeModel::tokenize_piece(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= WordCache::kMaxWordBytes;
  if (cacheable && cache_.find(word, out)) return;
  const size_t first = out.size();
  const auto whole = ignore_merges_ ? vocab_.find(word) : vocab_.end();
  if (whole != vocab_.end()) {
    // Llama-3: a pre-token that is itself a token is emitted whole, even if
    // the merges would have split it differently.
    out.push_back(whole->second);
  } else {
    merge_word(word, out);
  }
  if (cacheable) cache_.insert(word, out.data() + first, out.size() - first);
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  MergeScratch& scratch = merge_scratch();
  std::vector<Symbol>& symbols = scratch.symbols;
  symbols.clear();
  const auto add_symbol = [&symbols](int32_t id, uint32_t n_bytes) {
    const auto index = static_cast<int32_t>(symbols.size());
    if (!symbols.empty()) symbols.back().next = index;
    symbols.push_back({id, index - 1, -1, n_bytes});
  };

  // Initial symbols: one per character, else its <0xNN> byte tokens, else unk
  // (consecutive unknowns fused into one when fuse_unk).
  std::optional<int32_t> unk_id;
  uint32_t unk_bytes = 0;
  bool pending_unk = false;
  std::string affixed;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t begin = pos;
    pos += utf8_char_len(static_cast<unsigned char>(word[pos]));
    pos = std::min(pos, word.size());
    std::string_view piece = word.substr(begin, pos - begin);
    const auto n_bytes = static_cast<uint32_t>(piece.size());
    const bool add_prefix = begin > 0 && !continuing_subword_prefix_.empty();
    const bool add_suffix = pos == word.size() && !end_of_word_suffix_.empty();
    if (add_prefix || add_suffix) {
      affixed.clear();
      if (add_prefix) affixed += continuing_subword_prefix_;
      affixed += piece;
      if (add_suffix) affixed += end_of_word_suffix_;
      piece = affixed;
    }
    const auto it = vocab_.find(piece);
    if (it != vocab_.end()) {
      if (pending_unk) {
        add_symbol(*unk_id, unk_bytes);
        pending_unk = false;
      }
      add_symbol(it->second, n_bytes);
      continue;
    }
    if (byte_fallback_ && std::all_of(piece.begin(), piece.end(), [this](char c) {
          return byte_fallback_ids_[static_cast<unsigned char>(c)] >= 0;
        })) {
      // HF does not flush a pending unk here: it is emitted before the next
      // known character, i.e. after these byte tokens.
      for (const char c : piece) add_symbol(byte_fallback_ids_[static_cast<unsigned char>(c)], 1);
      continue;
    }
    if (!unk_token_) {
      fail("cannot encode \"", std::string(piece), "\" with ", file_,
           ": it is not in the vocab and the model has no unk_token");
    }
    if (!unk_id) {
      const auto unk = vocab_.find(*unk_token_);
      if (unk == vocab_.end()) {
        fail("cannot encode \"", std::string(piece), "\" with ", file_, ": unk_token \"",
             *unk_token_, "\" is not in the vocab");
      }
      unk_id = unk->second;
    }
    if (pending_unk && fuse_unk_) {
      unk_bytes += n_bytes;
    } else {
      if (pending_unk) add_symbol(*unk_id, unk_bytes);
      pending_unk = true;
      unk_bytes = n_bytes;
    }
  }
  if (pending_unk) add_symbol(*unk_id, unk_bytes);

  std::vector<Candidate>& heap = scratch.heap;
  heap.clear();
  const auto push_candidate = [&](int32_t pos_index, int32_t left, int32_t right) {
    const MergeResult* merge = merges_.find(pair_key(left, right));
    if (merge == nullptr) return;
    heap.push_back({merge->rank, static_cast<uint32_t>(pos_index), merge->new_id});
    std::push_heap(heap.begin(), heap.end(), LowerPriority{});
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const MergeResult* merge = merges_.find(pair_key(symbols[i].id, symbols[i + 1].id))) {
      heap.push_back({merge->rank, static_cast<uint32_t>(i), merge->new_id});
    }
  }
  std::make_heap(heap.begin(), heap.end(), LowerPriority{});

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LowerPriority{});
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.pos];
    if (left.n_bytes == 0 || left.next < 0) continue;
    const auto right_index = static_cast<size_t>(left.next);
    const Symbol right = symbols[right_index];
    // Skip stale entries: the pair at this position must still merge into the
    // same token (the check HF makes, which we copy to give the same result).
    const MergeResult* current = merges_.find(pair_key(left.id, right.id));
    if (current == nullptr || current->new_id != top.new_id) continue;
    left.id = top.new_id;
    left.n_bytes += right.n_bytes;
    left.next = right.next;
    symbols[right_index].n_bytes = 0;
    if (right.next >= 0)
      symbols[static_cast<size_t>(right.next)].prev = static_cast<int32_t>(top.pos);
    const Symbol merged = symbols[top.pos];
    if (merged.prev >= 0) {
      push_candidate(merged.prev, symbols[static_cast<size_t>(merged.prev)].id, merged.id);
    }
    if (merged.next >= 0) {
      push_candidate(static_cast<int32_t>(top.pos), merged.id,
                     symbols[static_cast<size_t>(merged.next)].id);
    }
  }
  for (const Symbol& s : symbols) {
    if (s.n_bytes != 0) out.push_back(s.id);
  }
}

}  // namespace bit_ttt::tokenizer
