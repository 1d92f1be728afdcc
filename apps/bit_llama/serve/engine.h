// The server's model: one loaded BitLlama and tokenizer shared by every session,
// each session holding its own LlamaMemory (bit_ttt/generate.h). Generation is
// bit_ttt::generate, the same loop Llama uses; what this adds is the session file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "bit_ttt/generate.h"
#include "bit_ttt/model.h"
#include "bit_ttt/tokenizer.h"

namespace bit_ttt::serve {

class Engine {
 public:
  Engine(BitLlama model, Tokenizer tokenizer);

  LlamaMemory new_memory() const { return bit_ttt::new_memory(model_); }
  // Absorbs text without generating; returns how many tokens it was.
  int64_t learn(LlamaMemory& memory, std::string_view text) const {
    return bit_ttt::learn(model_, tokenizer_, memory, text);
  }
  GenerationResult generate(LlamaMemory& memory, std::string_view prompt,
                            const GenerateOptions& options, const TextCallback& callback,
                            const CancelCheck& cancelled) const {
    return bit_ttt::generate(model_, tokenizer_, memory, prompt, options, callback, cancelled);
  }
  // A state file (safetensors) plus `<path>.json` with the history and the
  // next-token logits, so a reloaded memory continues exactly as the live one.
  void save(const LlamaMemory& memory, const std::filesystem::path& path) const;
  LlamaMemory load(const std::filesystem::path& path) const;

  const BitLlama& model() const { return model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  BitLlama model_;
  Tokenizer tokenizer_;
};

}  // namespace bit_ttt::serve
