// Hugging Face `tokenizer.json` tokenizers (BPE models: GPT-2, Llama-3, Llama-2 /
// TinyLlama SentencePiece-style): load, encode, decode and streaming decode,
// matching the Hugging Face `tokenizers` library token for token.
//
// Anything in a tokenizer.json that this implementation does not support is a
// load error naming the component and the file, never a silent difference.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bit_ttt {

// Immutable once loaded; copies share the loaded data, and every const method
// may be called from several threads at once.
class Tokenizer {
 public:
  static Tokenizer load(const std::string& path);  // a tokenizer.json file
  static Tokenizer from_json_text(std::string_view json_text, const std::string& source_name);

  // `text` must be valid UTF-8 (an Error names the first bad byte offset).
  // Added tokens (special or not) in the text are matched whatever
  // add_special_tokens says, as Hugging Face does; add_special_tokens only
  // controls the post-processor (e.g. the BOS that Llama-2 prepends).
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = false) const;
  // Ids without a token (holes in the vocab) are skipped like Hugging Face
  // does; ids outside [0, vocab_size()) are an Error. Invalid UTF-8 produced
  // by byte tokens comes out as U+FFFD.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  int32_t vocab_size() const;  // 1 + the largest id among the model vocab and added tokens
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(int32_t id) const;  // Error for an id with no token
  std::optional<int32_t> bos_id() const;      // post-processor template, else known names
  std::optional<int32_t> eos_id() const;      // known end-of-text names, best evidence first
  // Every id a generator should stop at (eos plus chat end-of-turn tokens such
  // as <|eot_id|>, <|im_end|>, <end_of_turn> that exist in this vocab).
  std::vector<int32_t> stop_ids() const;
  bool is_special(int32_t id) const;
  // 16 hex digits (FNV-1a 64) of the canonical vocab + merges + added tokens,
  // independent of JSON formatting and merge syntax.
  std::string fingerprint() const;
  std::string source_name() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
  friend class StreamDecoder;
};

// A valid HF tokenizer.json (byte-level BPE, GPT-2 pre-tokenizer/decoder) whose
// vocab is the 256 byte symbols (ids 0..255 in GPT-2 byte-to-unicode order of
// byte value) followed by the given special tokens, no merges. Used for
// randomly initialised models until a tokenizer is trained.
std::string byte_level_tokenizer_json(const std::vector<std::string>& special_tokens);

// Streaming decode: push ids one at a time, get back only complete UTF-8
// characters. Concatenating every push() and the final flush() equals
// Tokenizer::decode of all the ids. Each push costs O(token length), except
// that a run of SentencePiece byte tokens (<0xNN>) is released when the run
// ends, because Hugging Face turns the whole run into U+FFFD if any part of it
// is not valid UTF-8.
class StreamDecoder {
 public:
  explicit StreamDecoder(Tokenizer tokenizer, bool skip_special_tokens = false);
  ~StreamDecoder();
  StreamDecoder(const StreamDecoder& other);
  StreamDecoder& operator=(const StreamDecoder& other);
  StreamDecoder(StreamDecoder&&) noexcept;
  StreamDecoder& operator=(StreamDecoder&&) noexcept;

  std::string push(int32_t id);  // newly completed text (may be empty)
  // Whatever is left (incomplete bytes as U+FFFD, like HF decode); the
  // decoder then starts a new stream, as after reset().
  std::string flush();
  void reset();  // drop pending bytes and start a new stream

 private:
  struct State;
  Tokenizer tokenizer_;
  bool skip_special_tokens_;
  std::unique_ptr<State> state_;
};

}  // namespace bit_ttt
