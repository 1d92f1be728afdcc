// The server's generation engine: one loaded BitLlama and tokenizer shared by
// every session, and Memory, one conversation's TTT state plus what generation
// needs to continue it. Mirrors Llama::generate (src/model/llama.cc), but with
// the memory passed in so many memories share one copy of the weights.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bit_ttt/llama.h"
#include "bit_ttt/model.h"
#include "bit_ttt/tokenizer.h"

namespace bit_ttt::serve {

struct Memory {
  TttState state;
  std::vector<float> last_logits;  // next-token logits after the absorbed tokens
  std::vector<int32_t> history;    // recent tokens, for the repetition penalty
};

class Engine {
 public:
  Engine(BitLlama model, Tokenizer tokenizer);

  Memory new_memory() const;
  // Absorbs text without generating; returns how many tokens it was.
  int64_t learn(Memory& memory, std::string_view text) const;
  // Absorbs the prompt, then generates; every generated token is absorbed too.
  GenerationResult generate(Memory& memory, std::string_view prompt, const GenerateOptions& options,
                            const TextCallback& callback) const;
  // A state file (safetensors) plus `<path>.json` with the repetition history.
  void save(const Memory& memory, const std::filesystem::path& path) const;
  Memory load(const std::filesystem::path& path) const;

  const BitLlama& model() const { return model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  std::vector<int32_t> encode_continuation(const Memory& memory, std::string_view text) const;
  void absorb(Memory& memory, std::span<const int32_t> tokens) const;

  BitLlama model_;
  Tokenizer tokenizer_;
  std::optional<int32_t> eos_id_;
};

}  // namespace bit_ttt::serve
