#include "bit_ttt/llama.h"

#include "bit_ttt/error.h"
#include "model/bitt_model.h"

namespace bit_ttt {

Tokenizer load_model_tokenizer(const std::filesystem::path& path) {
  if (is_bitt_file(path)) {
    const std::optional<std::string> tokenizer_json = BittFile::open(path).tokenizer_json();
    if (!tokenizer_json)
      fail(path.string(),
           ": this .bitt file has no tokenizer (export it from a model directory "
           "that holds tokenizer.json)");
    return Tokenizer::from_json_text(*tokenizer_json, path.string() + " (tokenizer)");
  }
  if (!std::filesystem::is_directory(path)) return Tokenizer::load(path.string());
  const std::filesystem::path tokenizer_path = path / "tokenizer.json";
  if (!std::filesystem::exists(tokenizer_path))
    fail(path.string(),
         ": missing tokenizer.json (a model directory needs config.json, "
         "model.safetensors and tokenizer.json)");
  return Tokenizer::load(tokenizer_path.string());
}

Llama Llama::load_auto(const std::filesystem::path& path, const LoadOptions& options) {
  if (!is_bitt_file(path) && !std::filesystem::is_directory(path))
    fail(path.string(),
         ": not a model directory (expected config.json, model.safetensors and "
         "tokenizer.json inside) or a .bitt file");
  Tokenizer tokenizer = load_model_tokenizer(path);
  return Llama(BitLlama::load(path, options), std::move(tokenizer));
}

Llama::Llama(BitLlama model, Tokenizer tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), memory_(new_memory(model_)) {
  check_tokenizer_fits(model_, tokenizer_);
  eos_id_ = end_of_text_id(model_, tokenizer_);
}

int64_t Llama::learn(std::string_view text) {
  return bit_ttt::learn(model_, tokenizer_, memory_, text);
}

std::string Llama::stream_completion(std::string_view prompt, int max_tokens, float temperature,
                                     const TextCallback& callback) {
  GenerateOptions options;
  options.max_tokens = max_tokens;
  options.sampling.temperature = temperature;
  return generate(prompt, options, callback).text;
}

GenerationResult Llama::generate(std::string_view prompt, const GenerateOptions& options,
                                 const TextCallback& callback) {
  return bit_ttt::generate(model_, tokenizer_, memory_, prompt, options, callback);
}

void Llama::reset_state() {
  memory_.reset();
}

void Llama::save_state(const std::filesystem::path& path) const {
  model_.save_state(memory_.state, path);
}

void Llama::load_state(const std::filesystem::path& path) {
  TttState loaded = model_.load_state(path);
  // The next-token logits are not stored in the file; generation after a load
  // continues from the next prompt.
  memory_.reset();
  memory_.state = std::move(loaded);
}

}  // namespace bit_ttt
