// Text generation on a shared model: one function that continues a conversation's
// memory (TTT state, next-token logits, recent tokens) with a prompt and samples
// the reply. Llama (bit_ttt/llama.h) wraps it with a model that owns one memory;
// the server keeps one BitLlama and a LlamaMemory per session.
//
//   LlamaMemory memory = new_memory(model);
//   GenerationResult reply = generate(model, tokenizer, memory, "Hello", options);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bit_ttt/model.h"
#include "bit_ttt/sampler.h"
#include "bit_ttt/tokenizer.h"

namespace bit_ttt {

// Receives each new piece of text (complete UTF-8 characters); return false to stop.
using TextCallback = std::function<bool(std::string_view piece)>;
// Asked before each generated token, also when no text came out of the last one
// (a held-back stop-string start, a skipped special token); true stops generation.
using CancelCheck = std::function<bool()>;

struct GenerateOptions {
  int max_tokens = 128;
  SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings (never included in the output)
  bool stop_at_eos = true;
};

enum class FinishReason { length, eos, stop_string, callback };
std::string_view finish_reason_name(FinishReason reason);

struct GenerationResult {
  std::string text;
  int64_t n_prompt_tokens = 0;
  int64_t n_generated_tokens = 0;
  FinishReason finish_reason = FinishReason::length;
  double prompt_seconds = 0.0;    // prefill of the prompt
  double generate_seconds = 0.0;  // sampling + decode of generated tokens
};

// One conversation's memory: everything generation needs to continue it, apart
// from the (shared, read-only) model and tokenizer.
struct LlamaMemory {
  TttState state;
  std::vector<float> last_logits;  // next-token logits after the absorbed tokens; empty: none
  std::vector<int32_t> history;    // the most recent tokens (kMaxHistory), for the penalties

  // The sampling penalties never look further back than this.
  static constexpr size_t kMaxHistory = 4096;

  int64_t n_tokens() const { return state.n_tokens(); }
  void reset();  // back to an empty memory
};

LlamaMemory new_memory(const BitLlama& model);

// Throws when the tokenizer and the model do not belong together (the tokenizer
// knows more tokens than the model's vocabulary).
void check_tokenizer_fits(const BitLlama& model, const Tokenizer& tokenizer);
// The token that ends generation: the model config's eos_token_id, else the tokenizer's.
std::optional<int32_t> end_of_text_id(const BitLlama& model, const Tokenizer& tokenizer);

// Absorbs tokens into the memory (state, logits, history).
void absorb(const BitLlama& model, LlamaMemory& memory, std::span<const int32_t> tokens);
// Absorbs text without generating; special tokens (BOS) only at the very start
// of the memory's stream. Returns the token count.
int64_t learn(const BitLlama& model, const Tokenizer& tokenizer, LlamaMemory& memory,
              std::string_view text);

// Continues the memory with `prompt`, then generates up to options.max_tokens.
// The prompt and every generated token are absorbed into the memory; pieces of
// text go to `callback` as they become complete characters. A false from
// `callback` or a true from `cancelled` ends it with FinishReason::callback.
// Throws bit_ttt::Error when there is nothing to continue from.
GenerationResult generate(const BitLlama& model, const Tokenizer& tokenizer, LlamaMemory& memory,
                          std::string_view prompt, const GenerateOptions& options,
                          const TextCallback& callback = {}, const CancelCheck& cancelled = {});

}  // namespace bit_ttt
