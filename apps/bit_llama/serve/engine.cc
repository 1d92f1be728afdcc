#include "serve/engine.h"

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"

namespace bit_ttt::serve {
namespace {

constexpr size_t kMaxHistory = 4096;  // as Llama: the penalty never looks further back

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::filesystem::path history_path(const std::filesystem::path& path) {
  return std::filesystem::path(path.string() + ".json");
}

}  // namespace

Engine::Engine(BitLlama model, Tokenizer tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {
  const BitLlamaConfig& config = model_.config();
  if (tokenizer_.vocab_size() > config.vocab_size)
    fail("tokenizer ", tokenizer_.source_name(), " has ", tokenizer_.vocab_size(),
         " tokens but the model's vocab_size is ", config.vocab_size);
  if (config.eos_token_id) {
    eos_id_ = static_cast<int32_t>(*config.eos_token_id);
  } else {
    eos_id_ = tokenizer_.eos_id();
  }
}

Memory Engine::new_memory() const {
  return Memory{model_.new_state(), {}, {}};
}

std::vector<int32_t> Engine::encode_continuation(const Memory& memory,
                                                 std::string_view text) const {
  return tokenizer_.encode(text, /*add_special_tokens=*/memory.state.n_tokens() == 0);
}

void Engine::absorb(Memory& memory, std::span<const int32_t> tokens) const {
  if (tokens.empty()) return;
  memory.last_logits.resize(static_cast<size_t>(model_.config().vocab_size));
  model_.forward(tokens, memory.state, memory.last_logits, LogitsMode::last);
  memory.history.insert(memory.history.end(), tokens.begin(), tokens.end());
  if (memory.history.size() > kMaxHistory)
    memory.history.erase(memory.history.begin(),
                         memory.history.end() - static_cast<ptrdiff_t>(kMaxHistory));
}

int64_t Engine::learn(Memory& memory, std::string_view text) const {
  const std::vector<int32_t> tokens = encode_continuation(memory, text);
  absorb(memory, tokens);
  return static_cast<int64_t>(tokens.size());
}

GenerationResult Engine::generate(Memory& memory, std::string_view prompt,
                                  const GenerateOptions& options,
                                  const TextCallback& callback) const {
  if (options.max_tokens < 0) fail("max_tokens must be >= 0, got ", options.max_tokens);
  Sampler sampler(options.sampling);
  GenerationResult result;

  const auto prompt_start = std::chrono::steady_clock::now();
  std::vector<int32_t> prompt_tokens = encode_continuation(memory, prompt);
  if (prompt_tokens.empty() && memory.state.n_tokens() == 0) {
    std::optional<int32_t> start = tokenizer_.bos_id();
    if (!start) start = eos_id_;
    if (!start) fail("empty prompt and the tokenizer has no BOS or EOS token to start from");
    prompt_tokens.push_back(*start);
  }
  absorb(memory, prompt_tokens);
  if (memory.last_logits.empty())
    fail("nothing to continue from: this memory was loaded from a file, so give a prompt");
  result.n_prompt_tokens = static_cast<int64_t>(prompt_tokens.size());
  result.prompt_seconds = seconds_since(prompt_start);

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
    const int32_t token = sampler.sample(memory.last_logits, memory.history, n_allowed);
    ++result.n_generated_tokens;
    absorb(memory, std::span<const int32_t>(&token, 1));
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

void Engine::save(const Memory& memory, const std::filesystem::path& path) const {
  model_.save_state(memory.state, path);
  // The history (repetition penalty) and the next-token logits make a reloaded
  // memory continue exactly as the live one would have.
  const nlohmann::json extra = {{"history", memory.history}, {"last_logits", memory.last_logits}};
  const std::filesystem::path extra_path = history_path(path);
  const std::filesystem::path temp = extra_path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << extra.dump();
    if (!out) fail(temp.string(), ": cannot write");
  }
  std::filesystem::rename(temp, extra_path);
}

Memory Engine::load(const std::filesystem::path& path) const {
  Memory memory{model_.load_state(path), {}, {}};
  std::ifstream in(history_path(path), std::ios::binary);
  if (!in) return memory;
  try {
    const nlohmann::json extra = nlohmann::json::parse(in);
    memory.history = extra.at("history").get<std::vector<int32_t>>();
    memory.last_logits = extra.at("last_logits").get<std::vector<float>>();
  } catch (const nlohmann::json::exception& error) {
    fail(history_path(path).string(), ": bad session file: ", error.what());
  }
  const auto vocab = static_cast<size_t>(model_.config().vocab_size);
  if (!memory.last_logits.empty() && memory.last_logits.size() != vocab)
    fail(history_path(path).string(), ": logits of another vocabulary size");
  for (int32_t id : memory.history)
    if (id < 0 || static_cast<size_t>(id) >= vocab)
      fail(history_path(path).string(), ": token id ", id, " out of range");
  return memory;
}

}  // namespace bit_ttt::serve
