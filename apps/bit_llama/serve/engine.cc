#include "serve/engine.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"

namespace bit_ttt::serve {
namespace {

std::filesystem::path history_path(const std::filesystem::path& path) {
  return std::filesystem::path(path.string() + ".json");
}

}  // namespace

Engine::Engine(BitLlama model, Tokenizer tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {
  check_tokenizer_fits(model_, tokenizer_);
}

void Engine::save(const LlamaMemory& memory, const std::filesystem::path& path) const {
  model_.save_state(memory.state, path);
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

LlamaMemory Engine::load(const std::filesystem::path& path) const {
  LlamaMemory memory{model_.load_state(path), {}, {}};
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
