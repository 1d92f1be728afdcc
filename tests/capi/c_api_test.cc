// The C API against the C++ API it wraps: same logits, same text, state files,
// callbacks that stop, and status codes + bt_last_error() for bad input.
#include "bit_ttt/c_api.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend/backend.h"
#include "bit_ttt/llama.h"
#include "bit_ttt/model.h"
#include "bit_ttt/tokenizer.h"
#include "test_util.h"

namespace bit_ttt::testing {
namespace {

// A tiny model directory with a byte-level tokenizer (V = 300 >= 256 + 1 special).
std::filesystem::path make_model(const TempDir& dir) {
  BitLlamaConfig config;
  config.vocab_size = 300;
  config.hidden_dim = 32;
  config.num_layers = 2;
  config.inner_lr = 0.5f;
  config.intermediate_dim = 48;
  config.ttt_dim = 8;
  config.finalize();
  const auto path = dir / "model";
  write_random_model(config, 3, path);
  write_file_bytes(path / "tokenizer.json", byte_level_tokenizer_json({"<|endoftext|>"}));
  return path;
}

struct Pieces {
  std::vector<std::string> pieces;
  size_t stop_after = 0;  // 0 = never stop
};

int collect(const char* piece, size_t length, void* user_data) {
  auto* pieces = static_cast<Pieces*>(user_data);
  EXPECT_EQ(piece[length], '\0');
  pieces->pieces.emplace_back(piece, length);
  return pieces->stop_after == 0 || pieces->pieces.size() < pieces->stop_after;
}

TEST(CApi, ForwardMatchesCppAndStreamingEqualsBatched) {
  TempDir dir;
  const auto path = make_model(dir);
  bt_model* model = nullptr;
  ASSERT_EQ(bt_model_load(path.c_str(), nullptr, &model), BT_OK) << bt_last_error();
  const int64_t vocab = bt_model_vocab_size(model);
  ASSERT_EQ(vocab, 300);
  EXPECT_EQ(bt_model_num_layers(model), 2);
  const std::vector<int32_t> tokens = {5, 17, 255, 3, 3, 120, 299, 0};
  std::vector<float> batched(tokens.size() * static_cast<size_t>(vocab));
  ASSERT_EQ(
      bt_model_forward(model, tokens.data(), tokens.size(), batched.data(), batched.size(), 1),
      BT_OK);
  EXPECT_EQ(bt_model_n_tokens(model), 8);

  BitLlama cpp = BitLlama::load(path);
  TttState state = cpp.new_state();
  EXPECT_EQ(cpp.forward(tokens, state), batched);

  ASSERT_EQ(bt_model_reset_state(model), BT_OK);
  std::vector<float> last(static_cast<size_t>(vocab));
  for (size_t i = 0; i < tokens.size(); ++i) {
    ASSERT_EQ(bt_model_forward(model, &tokens[i], 1, last.data(), last.size(), 0), BT_OK);
    for (int64_t v = 0; v < vocab; ++v)
      ASSERT_NEAR(last[static_cast<size_t>(v)], batched[i * static_cast<size_t>(vocab) + v], 1e-4);
  }
  bt_model_free(model);
}

TEST(CApi, StateSaveLoadContinuesExactly) {
  TempDir dir;
  const auto path = make_model(dir);
  bt_model* model = nullptr;
  ASSERT_EQ(bt_model_load(path.c_str(), nullptr, &model), BT_OK);
  const std::vector<int32_t> tokens = {1, 2, 3, 4, 5, 6};
  std::vector<float> full(6 * 300), tail(3 * 300);
  ASSERT_EQ(bt_model_forward(model, tokens.data(), 6, full.data(), full.size(), 1), BT_OK);
  ASSERT_EQ(bt_model_reset_state(model), BT_OK);
  ASSERT_EQ(bt_model_forward(model, tokens.data(), 3, tail.data(), tail.size(), 1), BT_OK);
  const auto memory = (dir / "memory.safetensors").string();
  ASSERT_EQ(bt_model_save_state(model, memory.c_str()), BT_OK) << bt_last_error();
  ASSERT_EQ(bt_model_reset_state(model), BT_OK);
  EXPECT_EQ(bt_model_n_tokens(model), 0);
  ASSERT_EQ(bt_model_load_state(model, memory.c_str()), BT_OK) << bt_last_error();
  EXPECT_EQ(bt_model_n_tokens(model), 3);
  ASSERT_EQ(bt_model_forward(model, tokens.data() + 3, 3, tail.data(), tail.size(), 1), BT_OK);
  EXPECT_EQ(std::vector<float>(full.begin() + 3 * 300, full.end()), tail);
  bt_model_free(model);
}

TEST(CApi, GenerateMatchesCppAndCallbackStops) {
  TempDir dir;
  const auto path = make_model(dir);
  bt_llama* llama = nullptr;
  ASSERT_EQ(bt_llama_load(path.c_str(), nullptr, &llama), BT_OK) << bt_last_error();
  bt_generate_options options;
  bt_generate_options_init(&options);
  options.max_tokens = 12;
  options.temperature = 0.0f;
  options.stop_at_eos = 0;
  Pieces all;
  int64_t n_generated = 0;
  ASSERT_EQ(bt_llama_generate(llama, "Hello", &options, collect, &all, &n_generated), BT_OK)
      << bt_last_error();
  EXPECT_EQ(n_generated, 12);
  std::string text;
  for (const auto& piece : all.pieces) text += piece;

  Llama cpp = Llama::load_auto(path);
  GenerateOptions cpp_options;
  cpp_options.max_tokens = 12;
  cpp_options.sampling.temperature = 0.0f;
  cpp_options.stop_at_eos = false;
  EXPECT_EQ(cpp.generate("Hello", cpp_options).text, text);

  ASSERT_EQ(bt_llama_reset_state(llama), BT_OK);
  EXPECT_EQ(bt_llama_n_tokens(llama), 0);
  Pieces two;
  two.stop_after = 2;
  ASSERT_EQ(bt_llama_generate(llama, "Hello", &options, collect, &two, &n_generated), BT_OK);
  EXPECT_EQ(two.pieces.size(), 2u);
  EXPECT_LT(n_generated, 12);

  int64_t n_learned = 0;
  ASSERT_EQ(bt_llama_learn(llama, "abc", &n_learned), BT_OK);
  EXPECT_EQ(n_learned, 3);
  int32_t ids[8];
  size_t n_ids = 0;
  ASSERT_EQ(bt_llama_tokenize(llama, "abc", ids, 8, &n_ids), BT_OK);
  EXPECT_EQ(n_ids, 3u);
  EXPECT_EQ(bt_llama_tokenize(llama, "abc", ids, 2, &n_ids), BT_ERROR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n_ids, 3u);
  const auto memory = (dir / "llama.safetensors").string();
  ASSERT_EQ(bt_llama_save_state(llama, memory.c_str()), BT_OK);
  const int64_t n_before = bt_llama_n_tokens(llama);
  ASSERT_EQ(bt_llama_reset_state(llama), BT_OK);
  ASSERT_EQ(bt_llama_load_state(llama, memory.c_str()), BT_OK);
  EXPECT_EQ(bt_llama_n_tokens(llama), n_before);
  bt_llama_free(llama);
}

TEST(CApi, ErrorsAreStatusCodesWithMessages) {
  TempDir dir;
  const auto path = make_model(dir);
  bt_model* model = nullptr;
  EXPECT_EQ(bt_model_load((dir / "missing").c_str(), nullptr, &model), BT_ERROR_ENGINE);
  EXPECT_EQ(model, nullptr);
  EXPECT_TRUE(contains(bt_last_error(), "missing"));

  bt_load_options options;
  bt_load_options_init(&options);
  options.device = "tpu";
  EXPECT_EQ(bt_model_load(path.c_str(), &options, &model), BT_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(bt_last_error(), "valid devices: cpu, cuda"));
  options.device = "cuda";
  if (!bit_ttt::device_available(bit_ttt::Device::cuda)) {  // no GPU: a clear error
    EXPECT_NE(bt_model_load(path.c_str(), &options, &model), BT_OK);
    EXPECT_NE(std::string(bt_last_error()), "");
  }

  EXPECT_EQ(bt_model_forward(nullptr, nullptr, 0, nullptr, 0, 0), BT_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(bt_model_load(path.c_str(), nullptr, &model), BT_OK);
  const int32_t bad[2] = {1, 300};
  std::vector<float> logits(600);
  EXPECT_EQ(bt_model_forward(model, bad, 2, logits.data(), logits.size(), 1),
            BT_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(bt_last_error(), "token id 300 at position 1"));
  const int32_t good[2] = {1, 2};
  EXPECT_EQ(bt_model_forward(model, good, 2, logits.data(), 599, 1), BT_ERROR_BUFFER_TOO_SMALL);
  EXPECT_EQ(bt_model_n_tokens(model), 0);  // nothing was absorbed by failed calls
  EXPECT_EQ(bt_model_load_state(model, (dir / "nope.safetensors").c_str()), BT_ERROR_ENGINE);
  bt_model_free(model);
  bt_model_free(nullptr);
  bt_llama_free(nullptr);

  bt_llama* llama = nullptr;
  ASSERT_EQ(bt_llama_load(path.c_str(), nullptr, &llama), BT_OK);
  bt_generate_options generate;
  bt_generate_options_init(&generate);
  generate.top_p = 2.0f;
  EXPECT_EQ(bt_llama_generate(llama, "x", &generate, nullptr, nullptr, nullptr),
            BT_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(bt_last_error(), "top_p"));
  bt_llama_free(llama);
  EXPECT_STREQ(bt_status_name(BT_OK), "ok");
}

}  // namespace
}  // namespace bit_ttt::testing
