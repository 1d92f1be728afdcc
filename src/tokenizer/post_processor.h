// tokenizer.json "post_processor": adds special tokens around an encoded
// sequence when encode() is asked to (e.g. Llama-2's leading <s>). Only the
// single-sequence form is used; pair templates are not needed here.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace bit_ttt::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void add_special_tokens(std::vector<int32_t>& ids) const = 0;
  // The single special token placed before / after the sequence, if any:
  // evidence for bos_id() / eos_id().
  virtual std::optional<int32_t> leading_token() const { return std::nullopt; }
  virtual std::optional<int32_t> trailing_token() const { return std::nullopt; }
};

// Null for a JSON null; an Error naming the component and `file` for
// anything unsupported.
std::unique_ptr<const PostProcessor> parse_post_processor(const nlohmann::json& j,
                                                          const std::string& file);

}  // namespace bit_ttt::tokenizer
