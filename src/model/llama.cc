#include "bit_ttt/llama.h"

#include <chrono>

#include "bit_ttt/error.h"
#include "model/bitt_model.h"
#include "model/state_impl.h"

namespace bit_ttt {
namespace {

// The repetition penalty never looks further back than this.
constexpr size_t kMaxHistory = 4096;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::length:
      return "length";
    case FinishReason::eos:
      return "eos";
    case FinishReason::stop_string:
      return "stop";
    case FinishReason::callback:
      return "callback";
  }
  return "unknown";
}

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
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), state_(model_.new_state()) {
  const BitLlamaConfig& config = model_.config();
  if (tokenizer_.vocab_size() > config.vocab_size)
    fail("tokenizer ", tokenizer_.source_name(), " has ", tokenizer_.vocab_size(),
         " tokens but the model's vocab_size is ", config.vocab_size,
         ": they do not belong together");
  if (config.eos_token_id) {
    eos_id_ = static_cast<int32_t>(*config.eos_token_id);
  } else {
    eos_id_ = tokenizer_.eos_id();
  }
}

std::vector<int32_t> Llama::encode_continuation(std::string_view text) const {
  // Special tokens (BOS) only at the very start of the memory's stream.
  return tokenizer_.encode(text, /*add_special_tokens=*/state_.n_tokens() == 0);
}

void Llama::absorb(std::span<const int32_t> tokens) {
  if (tokens.empty()) return;
  last_logits_.resize(static_cast<size_t>(model_.config().vocab_size));
  model_.forward(tokens, state_, last_logits_, LogitsMode::last);
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  if (history_.size() > kMaxHistory)
    history_.erase(history_.begin(), history_.end() - static_cast<ptrdiff_t>(kMaxHistory));
}

int64_t Llama::learn(std::string_view text) {
  const std::vector<int32_t> tokens = encode_continuation(text);
  absorb(tokens);
  return static_cast<int64_t>(tokens.size());
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
  if (options.max_tokens < 0) fail("max_tokens must be >= 0, got ", options.max_tokens);
  Sampler sampler(options.sampling);
  GenerationResult result;

  const auto prompt_start = std::chrono::steady_clock::now();
  std::vector<int32_t> prompt_tokens = encode_continuation(prompt);
  if (prompt_tokens.empty() && state_.n_tokens() == 0) {
    // Nothing to condition on: start from BOS (or EOS, the document separator).
    std::optional<int32_t> start = tokenizer_.bos_id();
    if (!start) start = eos_id_;
    if (!start) fail("empty prompt and the tokenizer has no BOS or EOS token to start from");
    prompt_tokens.push_back(*start);
  }
  absorb(prompt_tokens);
  if (last_logits_.empty())
    fail(
        "nothing to continue from: the memory was loaded from a file, so give a prompt "
        "(the next-token logits are not part of a state file)");
  result.n_prompt_tokens = static_cast<int64_t>(prompt_tokens.size());
  result.prompt_seconds = seconds_since(prompt_start);

  // Prime the stream decoder with the prompt so decoders that treat the start of
  // a text specially (SentencePiece strips one leading space) see the real start.
  StreamDecoder decoder(tokenizer_, /*skip_special_tokens=*/true);
  for (int32_t id : prompt_tokens) decoder.push(id);
  StopStringMatcher stop_matcher(options.stop);

  const int32_t n_allowed = tokenizer_.vocab_size();
  const auto generate_start = std::chrono::steady_clock::now();
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return true;
    result.text += piece;
    return !callback || callback(piece);
  };
  for (int step = 0; step < options.max_tokens; ++step) {
    const int32_t token = sampler.sample(last_logits_, history_, n_allowed);
    ++result.n_generated_tokens;
    absorb(std::span<const int32_t>(&token, 1));
    if (options.stop_at_eos && eos_id_ && token == *eos_id_) {
      result.finish_reason = FinishReason::eos;
      break;
    }
    const std::string piece = stop_matcher.push(decoder.push(token));
    if (!emit(piece)) {
      result.finish_reason = FinishReason::callback;
      break;
    }
    if (stop_matcher.stopped()) {
      result.finish_reason = FinishReason::stop_string;
      break;
    }
  }
  if (result.finish_reason != FinishReason::callback && !stop_matcher.stopped())
    emit(stop_matcher.push(decoder.flush()) + stop_matcher.flush());
  result.generate_seconds = seconds_since(generate_start);
  return result;
}

void Llama::reset_state() {
  state_.reset();
  last_logits_.clear();
  history_.clear();
}

void Llama::save_state(const std::filesystem::path& path) const {
  model_.save_state(state_, path);
}

void Llama::load_state(const std::filesystem::path& path) {
  TttState loaded = model_.load_state(path);
  state_ = std::move(loaded);
  // The next-token logits are not stored in the file; generation after a load
  // continues from the next prompt (or recomputes from nothing when empty).
  last_logits_.clear();
  history_.clear();
}

}  // namespace bit_ttt
