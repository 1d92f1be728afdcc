// tokenizer.json "decoder": token strings back to text, written as a
// streaming pipeline so that decode() and StreamDecoder share one
// implementation and agree byte for byte.
//
// HF decoders transform a list of token strings; ByteLevel and Fuse join the
// list into one string. Steps before the first join work per token ("token
// mode"); steps after it see one growing string ("text mode") and hold back
// only what a later token could still change (an unfinished UTF-8 sequence,
// a possible start of a Replace pattern, trailing characters Strip may cut).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {

enum class DecodeStepKind {
  kReplace,
  kStrip,
  kMetaspace,
  kByteFallback,
  kFuse,
  kByteLevel,
  kJoinWithSpace,  // no decoder at all: HF joins the tokens with spaces
};

struct DecodeStep {
  DecodeStepKind kind = DecodeStepKind::kFuse;
  bool text_mode = false;              // after a ByteLevel / Fuse step
  std::string pattern;                 // Replace: literal pattern
  std::shared_ptr<const Regex> regex;  // Replace: regex pattern (token mode only)
  std::string content;                 // Replace: replacement text
  char32_t strip_char = 0;
  int64_t n_strip_start = 0;
  int64_t n_strip_stop = 0;
  std::string replacement;  // Metaspace: UTF-8 of the replacement character
  bool strip_first = true;  // Metaspace: prepend_scheme != never
};

class DecoderPipeline {
 public:
  // From the "decoder" JSON (null: join with spaces). Errors name `file`.
  DecoderPipeline(const nlohmann::json& j, const std::string& file);
  const std::vector<DecodeStep>& steps() const { return steps_; }

 private:
  void add(const nlohmann::json& j, const std::string& file);
  std::vector<DecodeStep> steps_;
  bool joined_ = false;
};

// The mutable side of a decode: one per decode() call or StreamDecoder.
class DecodeState {
 public:
  explicit DecodeState(const DecoderPipeline& pipeline);
  // Appends the text that this token completes.
  void push_token(std::string_view token, std::string& out);
  // Appends everything still held back and starts over.
  void finish(std::string& out);
  void reset();

 private:
  struct StepState {
    bool seen_token = false;  // Metaspace / JoinWithSpace: past the first token
    std::string pending;      // ByteFallback bytes, Replace possible pattern start
    int64_t n_stripped = 0;   // Strip: leading characters removed so far
    bool start_done = false;  // Strip: met a character that is not stripped
    int64_t n_held = 0;       // Strip: trailing strip characters held back
    LossyUtf8Decoder utf8;    // ByteLevel
  };
  void feed_token(size_t step, std::string token, std::string& out);
  void feed_text(size_t step, std::string_view text, std::string& out);
  void flush_bytes(size_t step, std::string& out);
  void finish_step(size_t step, std::string& out);

  const std::vector<DecodeStep>* steps_;
  std::vector<StepState> states_;
};

}  // namespace bit_ttt::tokenizer
