// llama.cpp's published tokenizer vectors (ggml-vocab-*.gguf.inp/.out):
// encode(text, add_special_tokens=false) for GPT-2 and Llama-2 SentencePiece.
#include <gtest/gtest.h>

#include <sstream>

#include "tokenizer_test_util.h"

namespace bit_ttt {
namespace {

// The .inp file is every text followed by "\n__ggml_vocab_test__\n" (so a
// text's own trailing newlines come before that separator's newline).
std::vector<std::string> read_inputs(const std::filesystem::path& path) {
  const std::string data = testing::read_file_bytes(path);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t end = data.find(separator, pos);
    if (end == std::string::npos) break;
    texts.push_back(data.substr(pos, end - pos));
    pos = end + separator.size();
  }
  EXPECT_EQ(pos, data.size()) << "trailing data after the last separator in " << path;
  return texts;
}

// One line of space-separated ids per text (an empty line for no ids).
std::vector<std::vector<int32_t>> read_outputs(const std::filesystem::path& path) {
  std::istringstream in(testing::read_file_bytes(path));
  std::vector<std::vector<int32_t>> outputs;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<int32_t> ids;
    int32_t id = 0;
    while (fields >> id) ids.push_back(id);
    outputs.push_back(ids);
  }
  return outputs;
}

void check_vectors(const std::filesystem::path& tokenizer_path, const std::filesystem::path& inp,
                   const std::filesystem::path& out) {
  const Tokenizer tokenizer = testing::cached_tokenizer(tokenizer_path);
  const auto texts = read_inputs(inp);
  const auto expected = read_outputs(out);
  ASSERT_EQ(texts.size(), expected.size());
  ASSERT_GT(texts.size(), 40u);
  for (size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "vector " << i << ": \"" << texts[i] << "\"");
    EXPECT_EQ(tokenizer.encode(texts[i], false), expected[i]);
    EXPECT_EQ(tokenizer.decode(expected[i]), texts[i]);
  }
}

TEST(LlamaCppVectors, Gpt2) {
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json", tokenizer_path);
  BT_REQUIRE_SHARED("tokenizers/llamacpp-vectors/ggml-vocab-gpt-2.gguf.inp", inp);
  BT_REQUIRE_SHARED("tokenizers/llamacpp-vectors/ggml-vocab-gpt-2.gguf.out", out);
  check_vectors(tokenizer_path, inp, out);
}

TEST(LlamaCppVectors, LlamaSpm) {
  BT_REQUIRE_SHARED("tokenizers/tinyllama/tokenizer.json", tokenizer_path);
  BT_REQUIRE_SHARED("tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf.inp", inp);
  BT_REQUIRE_SHARED("tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf.out", out);
  check_vectors(tokenizer_path, inp, out);
}

}  // namespace
}  // namespace bit_ttt
