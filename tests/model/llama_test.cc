// The high-level Llama API: generation controls, memory persistence, errors.
#include <gtest/gtest.h>

#include "bit_ttt/llama.h"
#include "core/atomic_file.h"
#include "model_test_util.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::expect_error;
using testing::TempDir;

class LlamaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BitLlamaConfig config = testing::tiny_config();
    config.vocab_size = 300;  // > the byte-level tokenizer's 257: ids >= 257 are never sampled
    write_random_model(config, 77, dir_.path());
    write_file_atomically(dir_ / "tokenizer.json", byte_level_tokenizer_json({"<|endoftext|>"}));
  }
  GenerateOptions options(float temperature, int max_tokens, uint64_t seed = 1) {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling.temperature = temperature;
    o.sampling.seed = seed;
    o.stop_at_eos = false;
    return o;
  }
  TempDir dir_;
};

TEST_F(LlamaTest, SameSeedSameTextAndStreamedPiecesFormTheText) {
  Llama a = Llama::load_auto(dir_.path());
  Llama b = Llama::load_auto(dir_.path());
  std::string streamed;
  const auto first = a.generate("Once", options(0.9f, 30, 5), [&](std::string_view piece) {
    streamed += piece;
    return true;
  });
  const auto second = b.generate("Once", options(0.9f, 30, 5));
  EXPECT_EQ(first.text, second.text);
  EXPECT_EQ(first.text, streamed);
  EXPECT_EQ(first.n_generated_tokens, 30);
  EXPECT_EQ(first.n_prompt_tokens, 4);
  EXPECT_EQ(first.finish_reason, FinishReason::length);
  b.reset_state();
  EXPECT_NE(b.generate("Once", options(0.9f, 30, 6)).text, first.text);
  EXPECT_EQ(a.n_tokens(), 34);
}

TEST_F(LlamaTest, CallbackReturningFalseStops) {
  Llama llama = Llama::load_auto(dir_.path());
  int calls = 0;
  const auto result = llama.generate("Hi", options(0.0f, 50), [&](std::string_view) {
    ++calls;
    return calls < 3;
  });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(result.finish_reason, FinishReason::callback);
  EXPECT_LE(result.n_generated_tokens, 50);
}

TEST_F(LlamaTest, StopStringEndsGenerationAndIsNotEmitted) {
  Llama llama = Llama::load_auto(dir_.path());
  const std::string full = llama.generate("Hi", options(0.0f, 40)).text;
  ASSERT_GE(full.size(), 12u);
  const std::string stop = full.substr(8, 3);
  llama.reset_state();
  GenerateOptions with_stop = options(0.0f, 40);
  with_stop.stop = {stop};
  const auto result = llama.generate("Hi", with_stop);
  EXPECT_EQ(result.finish_reason, FinishReason::stop_string);
  EXPECT_EQ(result.text, full.substr(0, full.find(stop)));
}

TEST_F(LlamaTest, EosFromConfigStopsGeneration) {
  Llama probe = Llama::load_auto(dir_.path());
  const std::vector<int32_t> prompt = probe.tokenizer().encode("Hi");
  TttState state = probe.model().new_state();
  const std::vector<float> logits = probe.model().forward(prompt, state, LogitsMode::last);
  const int32_t greedy = static_cast<int32_t>(
      std::max_element(logits.begin(), logits.begin() + 257) - logits.begin());
  BitLlamaConfig config = BitLlamaConfig::load(dir_ / "config.json");
  config.eos_token_id = greedy;
  config.save(dir_ / "config.json");
  Llama llama = Llama::load_auto(dir_.path());
  EXPECT_EQ(llama.eos_id(), greedy);
  GenerateOptions o = options(0.0f, 20);
  o.stop_at_eos = true;
  const auto result = llama.generate("Hi", o);
  EXPECT_EQ(result.finish_reason, FinishReason::eos);
  EXPECT_EQ(result.n_generated_tokens, 1);
  EXPECT_EQ(result.text, "");
}

TEST_F(LlamaTest, LearnSaveLoadContinuesLikeNeverStopping) {
  Llama uninterrupted = Llama::load_auto(dir_.path());
  uninterrupted.learn("The dragon was named Ember. ");
  const std::string expected = uninterrupted.generate("Her name:", options(0.7f, 20, 9)).text;

  Llama first = Llama::load_auto(dir_.path());
  EXPECT_EQ(first.learn("The dragon was named Ember. "), 28);
  first.save_state(dir_ / "memory.safetensors");
  Llama second = Llama::load_auto(dir_.path());
  second.load_state(dir_ / "memory.safetensors");
  EXPECT_EQ(second.n_tokens(), 28);
  EXPECT_EQ(second.generate("Her name:", options(0.7f, 20, 9)).text, expected);

  second.reset_state();
  EXPECT_EQ(second.n_tokens(), 0);
  expect_error([&] { second.load_state(dir_ / "missing.safetensors"); }, {"missing.safetensors"});
}

TEST_F(LlamaTest, EmptyPromptAfterLoadingIsAClearError) {
  Llama llama = Llama::load_auto(dir_.path());
  llama.learn("abc");
  llama.save_state(dir_ / "m.safetensors");
  llama.load_state(dir_ / "m.safetensors");
  expect_error([&] { llama.generate("", options(0.0f, 3)); }, {"give a prompt"});
  // A fresh memory with an empty prompt starts from the end-of-text token.
  llama.reset_state();
  EXPECT_EQ(llama.generate("", options(0.0f, 3)).n_prompt_tokens, 1);
}

TEST_F(LlamaTest, TokenizerModelMismatchAndMissingTokenizer) {
  BitLlamaConfig small = testing::tiny_config();  // vocab 97 < 257 byte tokens
  write_random_model(small, 1, dir_ / "small");
  write_file_atomically(dir_ / "small" / "tokenizer.json", byte_level_tokenizer_json({}));
  expect_error([&] { Llama::load_auto(dir_ / "small"); },
               {"has 256 tokens", "vocab_size is 97", "do not belong together"});
  std::filesystem::remove(dir_ / "small" / "tokenizer.json");
  expect_error([&] { Llama::load_auto(dir_ / "small"); }, {"missing tokenizer.json"});
}

TEST_F(LlamaTest, SeedStreamCompletionApi) {
  Llama llama = Llama::load_auto(dir_.path());
  std::string streamed;
  const std::string text = llama.stream_completion("Hello", 10, 0.8f, [&](std::string_view piece) {
    streamed += piece;
    return true;
  });
  EXPECT_EQ(text, streamed);
  EXPECT_GT(llama.n_tokens(), 5);
}

}  // namespace
}  // namespace bit_ttt
