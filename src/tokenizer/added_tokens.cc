#include "tokenizer/added_tokens.h"

#include <algorithm>
#include <limits>

#include "bit_ttt/error.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

size_t previous_char_start(std::string_view text, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return start;
}

}  // namespace

bool AddedTokenMatcher::is_word_char(std::string_view one_char) const {
  Match m{};
  return word_char_.find(one_char, 0, m);
}

bool AddedTokenMatcher::ends_with_word(std::string_view text) const {
  if (text.empty()) return false;
  const size_t start = previous_char_start(text, text.size());
  return is_word_char(text.substr(start));
}

bool AddedTokenMatcher::starts_with_word(std::string_view text) const {
  if (text.empty()) return false;
  return is_word_char(text.substr(0, utf8_char_len(static_cast<unsigned char>(text[0]))));
}

const AddedToken* AddedVocabulary::find_id(int32_t id) const {
  const auto it = std::lower_bound(by_id.begin(), by_id.end(), id,
                                   [](const AddedToken& t, int32_t value) { return t.id < value; });
  return it != by_id.end() && it->id == id ? &*it : nullptr;
}

AddedVocabulary build_added_vocabulary(const std::vector<AddedToken>& file_tokens,
                                       const BpeModel& model, const Normalizer* normalizer) {
  AddedVocabulary v;
  std::unordered_map<int32_t, AddedToken> token_of_id;
  std::vector<AddedToken> specials;
  std::vector<AddedToken> others;
  for (const AddedToken& t : file_tokens) {
    if (t.special && !t.content.empty() && v.special_contents.insert(t.content).second) {
      specials.push_back(t);
    }
  }
  const auto model_size = static_cast<int64_t>(model.n_vocab_entries());
  int64_t max_added_id = -1;
  const auto same_flags = [](const AddedToken& a, const AddedToken& b) {
    return a.content == b.content && a.special == b.special && a.single_word == b.single_word &&
           a.lstrip == b.lstrip && a.rstrip == b.rstrip && a.normalized == b.normalized;
  };
  for (const AddedToken& t : file_tokens) {
    if (t.content.empty()) continue;
    int64_t id = -1;
    if (const auto it = v.id_by_content.find(t.content); it != v.id_by_content.end()) {
      // An entry identical to the one registered is ignored.
      if (same_flags(token_of_id.at(it->second), t)) continue;
      id = it->second;
    } else if (const auto model_id = model.token_to_id(t.content)) {
      id = *model_id;
    } else if (max_added_id < 0) {
      id = model_size;
    } else {
      id = max_added_id >= model_size || model_size == 0 ? max_added_id + 1 : model_size;
    }
    if (id >= std::numeric_limits<int32_t>::max() / 2) fail("too many added tokens");
    max_added_id = std::max(max_added_id, id);
    v.id_by_content[t.content] = static_cast<int32_t>(id);
    AddedToken registered = t;
    registered.id = static_cast<int32_t>(id);
    token_of_id[registered.id] = registered;
    if (!v.special_contents.contains(t.content)) others.push_back(t);
  }
  for (auto& [id, t] : token_of_id) v.by_id.push_back(t);
  std::sort(v.by_id.begin(), v.by_id.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  for (std::vector<AddedToken>* list : {&specials, &others}) {
    for (AddedToken t : *list) {
      t.id = v.id_by_content.at(t.content);
      v.match_list.push_back(t);
    }
  }
  for (const AddedToken& t : v.by_id) {
    std::string text = t.content;
    if (t.normalized && normalizer != nullptr) normalizer->normalize(text);
    v.decode_text[t.id] = text;
  }
  return v;
}

AddedTokenMatcher::AddedTokenMatcher(const AddedVocabulary& vocabulary, bool match_normalized,
                                     const Normalizer* normalizer)
    : word_char_(concat("[", kRustWordMembers, "]"), "added-token word check"),
      vocabulary_(&vocabulary) {
  trie_.emplace_back();
  for (const AddedToken& token : vocabulary.match_list) {
    if (token.normalized != match_normalized) continue;
    std::string text = token.content;
    if (match_normalized && normalizer != nullptr) normalizer->normalize(text);
    if (text.empty()) continue;
    int32_t node = 0;
    for (const char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      int32_t child = -1;
      for (const auto& [b, index] : trie_[static_cast<size_t>(node)].children) {
        if (b == byte) child = index;
      }
      if (child < 0) {
        child = static_cast<int32_t>(trie_.size());
        trie_[static_cast<size_t>(node)].children.emplace_back(byte, child);
        trie_.emplace_back();
      }
      node = child;
    }
    int32_t& slot = trie_[static_cast<size_t>(node)].pattern;
    if (slot < 0) {
      slot = static_cast<int32_t>(patterns_.size());
      patterns_.push_back({text, token.id});
    }
    first_byte_[static_cast<unsigned char>(text[0])] = true;
  }
}

int32_t AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t& end) const {
  int32_t node = 0;
  int32_t best = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int32_t child = -1;
    for (const auto& [b, index] : trie_[static_cast<size_t>(node)].children) {
      if (b == byte) {
        child = index;
        break;
      }
    }
    if (child < 0) break;
    node = child;
    if (trie_[static_cast<size_t>(node)].pattern >= 0) {
      best = trie_[static_cast<size_t>(node)].pattern;
      end = i + 1;
    }
  }
  return best;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextSegment>& segments) const {
  segments.clear();
  size_t start_offset = 0;  // end of the last emitted segment
  size_t scan = 0;
  while (!patterns_.empty() && scan < text.size()) {
    if (!first_byte_[static_cast<unsigned char>(text[scan])]) {
      ++scan;
      continue;
    }
    size_t stop = 0;
    const int32_t pattern = longest_at(text, scan, stop);
    if (pattern < 0) {
      ++scan;
      continue;
    }
    // Mirrors HF's find_matches: segments may overlap when an rstrip took
    // text that a later match also covers; HF emits both, and so do we.
    size_t start = scan;
    scan = stop;  // the matcher resumes after the match, used or not
    // Flags come from the registered token of that id, as in HF.
    const AddedToken& token = *vocabulary_->find_id(patterns_[static_cast<size_t>(pattern)].id);
    if (token.single_word &&
        (ends_with_word(text.substr(0, start)) || starts_with_word(text.substr(stop)))) {
      continue;
    }
    if (token.lstrip) {
      size_t new_start = start;
      while (new_start > 0) {
        const size_t prev = previous_char_start(text, new_start);
        size_t next = prev;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        new_start = prev;
      }
      start = std::max(new_start, start_offset);
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t next = stop;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        stop = next;
      }
    }
    if (start_offset < start) segments.push_back({start_offset, start, -1});
    // HF drops empty pieces, even a token whose match the lstrip clamp emptied.
    if (start < stop) segments.push_back({start, stop, token.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) segments.push_back({start_offset, text.size(), -1});
}

}  // namespace bit_ttt::tokenizer
