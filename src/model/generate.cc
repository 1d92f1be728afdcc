// generate(): the one generation loop, shared by Llama and the server.
#include "bit_ttt/generate.h"

#include <chrono>

#include "bit_ttt/error.h"
#include "model/device_sampling.h"

namespace bit_ttt {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<int32_t> encode_continuation(const Tokenizer& tokenizer, const LlamaMemory& memory,
                                         std::string_view text) {
  return tokenizer.encode(text, /*add_special_tokens=*/memory.n_tokens() == 0);
}

// Appends absorbed tokens to the history the penalties look at.
void remember(LlamaMemory& memory, std::span<const int32_t> tokens) {
  std::vector<int32_t>& history = memory.history;
  history.insert(history.end(), tokens.begin(), tokens.end());
  if (history.size() > LlamaMemory::kMaxHistory)
    history.erase(history.begin(),
                  history.end() - static_cast<ptrdiff_t>(LlamaMemory::kMaxHistory));
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

void LlamaMemory::reset() {
  state.reset();
  last_logits.clear();
  history.clear();
}

LlamaMemory new_memory(const BitLlama& model) {
  return LlamaMemory{model.new_state(), {}, {}};
}

void check_tokenizer_fits(const BitLlama& model, const Tokenizer& tokenizer) {
  const int64_t vocab_size = model.config().vocab_size;
  if (tokenizer.vocab_size() > vocab_size)
    fail("tokenizer ", tokenizer.source_name(), " has ", tokenizer.vocab_size(),
         " tokens but the model's vocab_size is ", vocab_size, ": they do not belong together");
}

std::optional<int32_t> end_of_text_id(const BitLlama& model, const Tokenizer& tokenizer) {
  if (model.config().eos_token_id) return static_cast<int32_t>(*model.config().eos_token_id);
  return tokenizer.eos_id();
}

void absorb(const BitLlama& model, LlamaMemory& memory, std::span<const int32_t> tokens) {
  if (tokens.empty()) return;
  memory.last_logits.resize(static_cast<size_t>(model.config().vocab_size));
  model.forward(tokens, memory.state, memory.last_logits, LogitsMode::last);
  remember(memory, tokens);
}

int64_t learn(const BitLlama& model, const Tokenizer& tokenizer, LlamaMemory& memory,
              std::string_view text) {
  const std::vector<int32_t> tokens = encode_continuation(tokenizer, memory, text);
  absorb(model, memory, tokens);
  return static_cast<int64_t>(tokens.size());
}

GenerationResult generate(const BitLlama& model, const Tokenizer& tokenizer, LlamaMemory& memory,
                          std::string_view prompt, const GenerateOptions& options,
                          const TextCallback& callback, const CancelCheck& cancelled) {
  if (options.max_tokens < 0) fail("max_tokens must be >= 0, got ", options.max_tokens);
  Sampler sampler(options.sampling);
  const std::optional<int32_t> eos_id = end_of_text_id(model, tokenizer);
  GenerationResult result;

  const auto prompt_start = std::chrono::steady_clock::now();
  std::vector<int32_t> prompt_tokens = encode_continuation(tokenizer, memory, prompt);
  if (prompt_tokens.empty() && memory.n_tokens() == 0) {
    // Nothing to condition on: start from BOS (or EOS, the document separator).
    std::optional<int32_t> start = tokenizer.bos_id();
    if (!start) start = eos_id;
    if (!start) fail("empty prompt and the tokenizer has no BOS or EOS token to start from");
    prompt_tokens.push_back(*start);
  }
  absorb(model, memory, prompt_tokens);
  if (memory.last_logits.empty())
    fail(
        "nothing to continue from: the memory was loaded from a file, so give a prompt "
        "(the next-token logits are not part of a state file)");
  result.n_prompt_tokens = static_cast<int64_t>(prompt_tokens.size());
  result.prompt_seconds = seconds_since(prompt_start);

  // Prime the stream decoder with the prompt so decoders that treat the start of
  // a text specially (SentencePiece strips one leading space) see the real start.
  StreamDecoder decoder(tokenizer, /*skip_special_tokens=*/true);
  for (int32_t id : prompt_tokens) decoder.push(id);
  StopStringMatcher stop_matcher(options.stop);

  const int32_t n_allowed = tokenizer.vocab_size();
  const auto generate_start = std::chrono::steady_clock::now();
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return true;
    result.text += piece;
    return !callback || callback(piece);
  };
  // With the head on a GPU, each generated token's logits stay there and the next
  // token is drawn there (device_sampling.h); memory.last_logits is brought up to
  // date once, when generation ends, however it ends.
  const bool sample_on_gpu = head_samples(model);
  bool logits_on_device = false;
  auto bring_logits_home = [&] {
    if (logits_on_device) download_kept_logits(model, memory.state, memory.last_logits);
    logits_on_device = false;
  };
  try {
    for (int step = 0; step < options.max_tokens; ++step) {
      if (cancelled && cancelled()) {
        result.finish_reason = FinishReason::callback;
        break;
      }
      const int32_t token =
          logits_on_device
              ? sample_on_device(model, memory.state, sampler, memory.history, n_allowed)
              : sampler.sample(memory.last_logits, memory.history, n_allowed);
      ++result.n_generated_tokens;
      const std::span<const int32_t> one(&token, 1);
      if (sample_on_gpu) {
        forward_keeping_logits(model, one, memory.state);
        logits_on_device = true;
        remember(memory, one);
      } else {
        absorb(model, memory, one);
      }
      if (options.stop_at_eos && eos_id && token == *eos_id) {
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
  } catch (...) {
    bring_logits_home();
    throw;
  }
  bring_logits_home();
  if (result.finish_reason != FinishReason::callback && !stop_matcher.stopped())
    emit(stop_matcher.push(decoder.flush()) + stop_matcher.flush());
  result.generate_seconds = seconds_since(generate_start);
  return result;
}

}  // namespace bit_ttt
