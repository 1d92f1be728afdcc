// Llama: the high-level API of the seeds (cortex_rust::Llama in C++ form): a model,
// its tokenizer and one running TTT memory. Text in, text out.
//
//   auto llama = bit_ttt::Llama::load_auto("models/my_model");
//   llama.stream_completion("Hello", 100, 0.8f, [](std::string_view piece) {
//     std::cout << piece << std::flush;
//     return true;  // false stops generation
//   });
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bit_ttt/config.h"
#include "bit_ttt/model.h"
#include "bit_ttt/sampler.h"
#include "bit_ttt/tokenizer.h"

namespace bit_ttt {

// Receives each new piece of text (complete UTF-8 characters); return false to stop.
using TextCallback = std::function<bool(std::string_view piece)>;

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

// The tokenizer of a model: a .bitt file's embedded tokenizer, a directory's
// tokenizer.json, or a tokenizer.json file itself.
Tokenizer load_model_tokenizer(const std::filesystem::path& path);

class Llama {
 public:
  // A model directory holding config.json, model.safetensors and tokenizer.json,
  // or a .bitt file with its tokenizer inside.
  static Llama load_auto(const std::filesystem::path& path, const LoadOptions& options = {});
  Llama(BitLlama model, Tokenizer tokenizer);

  // The seed's API: stream up to max_tokens at `temperature` (other sampling
  // settings default), calling `callback` per piece. Returns the whole text.
  std::string stream_completion(std::string_view prompt, int max_tokens, float temperature,
                                const TextCallback& callback);
  // Continues the memory with `prompt`, then generates. The prompt and every
  // generated token are absorbed into the TTT memory.
  GenerationResult generate(std::string_view prompt, const GenerateOptions& options,
                            const TextCallback& callback = {});
  // Absorbs text into the memory without generating. Returns the token count.
  int64_t learn(std::string_view text);

  void reset_state();
  void save_state(const std::filesystem::path& path) const;
  void load_state(const std::filesystem::path& path);
  int64_t n_tokens() const { return state_.n_tokens(); }

  const BitLlama& model() const { return model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const TttState& state() const { return state_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }

 private:
  std::vector<int32_t> encode_continuation(std::string_view text) const;
  void absorb(std::span<const int32_t> tokens);

  BitLlama model_;
  Tokenizer tokenizer_;
  TttState state_;
  std::optional<int32_t> eos_id_;
  std::vector<float> last_logits_;  // next-token logits after the absorbed tokens
  std::vector<int32_t> history_;    // recent tokens, for the repetition penalty
};

}  // namespace bit_ttt
