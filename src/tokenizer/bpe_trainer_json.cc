// bpe_tokenizer_json: a trained byte-level BPE as a Hugging Face tokenizer.json,
// laid out like GPT-2's file so that any HF-compatible loader reads it.
#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"
#include "core/atomic_file.h"
#include "tokenizer/bpe_trainer.h"

namespace bit_ttt::tokenizer {

std::string byte_level_bpe_json(std::span<const std::string> vocab_by_id,
                                std::span<const std::pair<std::string, std::string>> merge_list,
                                std::span<const std::string> special_tokens) {
  using Json = nlohmann::ordered_json;
  Json vocab = Json::object();
  for (size_t id = 0; id < vocab_by_id.size(); ++id) vocab[vocab_by_id[id]] = id;
  if (vocab.size() != vocab_by_id.size()) fail("tokenizer.json: the vocab has a repeated token");

  Json merges = Json::array();
  for (const auto& [left, right] : merge_list) {
    // Byte-level symbols never hold a raw space, so "a b" is unambiguous.
    if (left.find(' ') != std::string::npos || right.find(' ') != std::string::npos)
      fail("BPE training: merge \"", left, "\" + \"", right, "\" holds a space");
    merges.push_back(left + " " + right);
  }

  Json added = Json::array();
  for (const std::string& token : special_tokens) {
    added.push_back(Json{{"id", vocab.at(token)},
                         {"content", token},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
  }
  // GPT-2's settings: no prefix space when pre-tokenizing, offsets trimmed by
  // the post-processor, and the decoder maps symbols back to bytes.
  const Json pre_tokenizer = {{"type", "ByteLevel"},
                              {"add_prefix_space", false},
                              {"trim_offsets", true},
                              {"use_regex", true}};
  const Json post_processor = {{"type", "ByteLevel"},
                               {"add_prefix_space", true},
                               {"trim_offsets", false},
                               {"use_regex", true}};
  const Json decoder = {{"type", "ByteLevel"},
                        {"add_prefix_space", true},
                        {"trim_offsets", true},
                        {"use_regex", true}};
  const Json root = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre_tokenizer},
      {"post_processor", post_processor},
      {"decoder", decoder},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", merges}}},
  };
  return root.dump(2) + "\n";
}

std::string bpe_tokenizer_json(const BpeTrainResult& result) {
  return byte_level_bpe_json(result.vocab, result.merges, result.special_tokens);
}

void write_bpe_tokenizer(const std::filesystem::path& path, const BpeTrainResult& result) {
  write_file_atomically(path, bpe_tokenizer_json(result));
}

}  // namespace bit_ttt::tokenizer
