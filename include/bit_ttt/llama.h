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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bit_ttt/config.h"
#include "bit_ttt/generate.h"
#include "bit_ttt/model.h"
#include "bit_ttt/sampler.h"
#include "bit_ttt/tokenizer.h"

namespace bit_ttt {

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
  // Continues the memory with `prompt`, then generates (bit_ttt::generate on
  // this model's one memory). The prompt and every generated token are absorbed.
  GenerationResult generate(std::string_view prompt, const GenerateOptions& options,
                            const TextCallback& callback = {});
  // Absorbs text into the memory without generating. Returns the token count.
  int64_t learn(std::string_view text);

  void reset_state();
  void save_state(const std::filesystem::path& path) const;
  void load_state(const std::filesystem::path& path);
  int64_t n_tokens() const { return memory_.n_tokens(); }

  const BitLlama& model() const { return model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const TttState& state() const { return memory_.state; }
  const LlamaMemory& memory() const { return memory_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }

 private:
  BitLlama model_;
  Tokenizer tokenizer_;
  LlamaMemory memory_;
  std::optional<int32_t> eos_id_;
};

}  // namespace bit_ttt
