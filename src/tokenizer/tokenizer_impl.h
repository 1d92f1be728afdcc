// What a loaded Tokenizer shares between its copies (see bit_ttt/tokenizer.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bit_ttt/tokenizer.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"

namespace bit_ttt {

struct Tokenizer::Impl {
  std::string source_name;
  std::unique_ptr<const tokenizer::BpeModel> model;
  tokenizer::AddedVocabulary added;
  std::unique_ptr<const tokenizer::Normalizer> normalizer;
  std::unique_ptr<const tokenizer::AddedTokenMatcher> raw_matcher;         // normalized=false
  std::unique_ptr<const tokenizer::AddedTokenMatcher> normalized_matcher;  // normalized=true
  std::unique_ptr<const tokenizer::PreTokenizer> pre_tokenizer;
  std::unique_ptr<const tokenizer::PostProcessor> post_processor;
  std::unique_ptr<const tokenizer::DecoderPipeline> decoder;

  // Per id: the token text decode and id_to_token use (added tokens override
  // the vocab), whether the id has a token, and whether that text is the
  // content of a special added token (what skip_special_tokens drops in HF).
  std::vector<std::string> token_text;
  std::vector<uint8_t> has_token;
  std::vector<uint8_t> special;
  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;
  std::vector<int32_t> stop_ids;
  std::string fingerprint;

  void encode_into(std::string_view text, std::vector<int32_t>& ids) const;
  // Fails with a message naming the source unless 0 <= id < vocab size.
  void check_id(int32_t id, const char* what) const;
};

// Builds an Impl from tokenizer.json text (tokenizer_json.cc).
std::shared_ptr<const Tokenizer::Impl> load_tokenizer_json(std::string_view json_text,
                                                           const std::string& source_name);

}  // namespace bit_ttt
