// tokenizer.json "added_tokens": tokens matched in the raw text before the
// normalizer and model run (special tokens like <|endoftext|>, chat markers).
// Matching is leftmost-longest like HF's Aho-Corasick, and honours
// single_word, lstrip, rstrip and normalized.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/regex.h"

namespace bit_ttt::tokenizer {

class Normalizer;
class BpeModel;

struct AddedToken {
  int32_t id = 0;  // as assigned by build_added_vocabulary (the JSON id is ignored, as in HF)
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
};

// The added tokens as Hugging Face registers them when loading a file: ids
// are re-derived (a content already in the model vocab keeps that id, others
// count up from the model's vocab size), a repeated content keeps one id and
// the flags of its last entry.
struct AddedVocabulary {
  std::vector<AddedToken> by_id;  // one entry per id, ascending ids
  std::unordered_map<std::string, int32_t> id_by_content;
  std::set<std::string> special_contents;
  // What is searched for in the text: special tokens first, then the others
  // (HF's order), each with its own normalized flag and the registered id.
  std::vector<AddedToken> match_list;
  // Text decode and id_to_token use: normalized tokens in normalized form.
  std::unordered_map<int32_t, std::string> decode_text;

  const AddedToken* find_id(int32_t id) const;
};

AddedVocabulary build_added_vocabulary(const std::vector<AddedToken>& file_tokens,
                                       const BpeModel& model, const Normalizer* normalizer);

// A byte range of the text, either an added token (token_id >= 0) or plain
// text to normalize and tokenize (token_id == -1).
struct TextSegment {
  size_t begin;
  size_t end;
  int32_t token_id;
};

class AddedTokenMatcher {
 public:
  // Matches the `normalized` == `match_normalized` subset of the match list;
  // normalized ones are matched in their normalized form. Keeps a pointer to
  // `vocabulary` for the flags.
  AddedTokenMatcher(const AddedVocabulary& vocabulary, bool match_normalized,
                    const Normalizer* normalizer);

  bool empty() const { return patterns_.empty(); }
  // Cuts `text` into segments covering it (empty plain segments dropped).
  void split(std::string_view text, std::vector<TextSegment>& segments) const;

 private:
  struct Pattern {
    std::string text;
    int32_t id;
  };
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;
    int32_t pattern = -1;  // pattern ending here
  };
  // Longest pattern starting at `pos`, or -1.
  int32_t longest_at(std::string_view text, size_t pos, size_t& end) const;
  bool is_word_char(std::string_view one_char) const;
  bool ends_with_word(std::string_view text) const;
  bool starts_with_word(std::string_view text) const;

  Regex word_char_;  // Rust regex \w, for single_word
  const AddedVocabulary* vocabulary_;
  std::vector<Pattern> patterns_;
  std::vector<Node> trie_;
  bool first_byte_[256] = {};
};

}  // namespace bit_ttt::tokenizer
