// tokenizer.json "normalizer": rewrites each piece of text between added
// tokens before pre-tokenization (Llama-2 uses it to turn spaces into "▁").
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace bit_ttt::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Null for a JSON null; an Error naming the component and `file` for anything
// unsupported (Unicode normalization forms, Lowercase, Precompiled, ...).
std::unique_ptr<const Normalizer> parse_normalizer(const nlohmann::json& j,
                                                   const std::string& file);

}  // namespace bit_ttt::tokenizer
