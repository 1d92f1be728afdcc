// StreamDecoder: pushes return complete UTF-8 only, and everything pushed and
// flushed adds up to decode() of the whole sequence.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace bit_ttt {
namespace {

struct StreamResult {
  std::string text;
  size_t n_nonempty_pushes = 0;
  bool all_valid = true;
};

StreamResult stream_all(StreamDecoder& stream, const std::vector<int32_t>& ids) {
  StreamResult r;
  for (const int32_t id : ids) {
    const std::string piece = stream.push(id);
    r.all_valid = r.all_valid && testing::is_valid_utf8(piece);
    if (!piece.empty()) ++r.n_nonempty_pushes;
    r.text += piece;
  }
  const std::string rest = stream.flush();
  r.all_valid = r.all_valid && testing::is_valid_utf8(rest);
  r.text += rest;
  return r;
}

void check_japanese(const std::string& tokenizer_name) {
  const auto tokenizer_path =
      testing::shared_data_dir() / "tokenizers" / tokenizer_name / "tokenizer.json";
  const auto text_path = testing::shared_data_dir() / "ja/ai.ja.txt";
  if (testing::shared_data_dir().empty() || !std::filesystem::exists(tokenizer_path) ||
      !std::filesystem::exists(text_path)) {
    GTEST_SKIP() << "shared data not found: tokenizers/" << tokenizer_name << " or ja/ai.ja.txt";
  }
  const Tokenizer t = testing::cached_tokenizer(tokenizer_path);
  // The first 4 KB, cut back to a character boundary.
  std::string text = testing::read_file_bytes(text_path).substr(0, 4096);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
  ASSERT_TRUE(testing::is_valid_utf8(text));
  const auto ids = t.encode(text, true);
  StreamDecoder stream(t);
  const StreamResult r = stream_all(stream, ids);
  EXPECT_TRUE(r.all_valid);
  EXPECT_EQ(r.text, t.decode(ids));
  // Text comes out as it is completed, not all at the end.
  EXPECT_GT(r.n_nonempty_pushes, ids.size() / 4);

  StreamDecoder skipping(t, true);
  const StreamResult s = stream_all(skipping, ids);
  EXPECT_EQ(s.text, t.decode(ids, true));
  EXPECT_EQ(s.text, text);
}

TEST(StreamDecoder, JapaneseGpt2) {
  check_japanese("gpt2");
}
TEST(StreamDecoder, JapaneseTinyLlama) {
  check_japanese("tinyllama");
}
TEST(StreamDecoder, JapaneseLlama3) {
  check_japanese("llama3");
}

TEST(StreamDecoder, Gpt2HoldsIncompleteCharacters) {
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json", path);
  const Tokenizer t = testing::cached_tokenizer(path);
  // "猫" is E7 8C AB: GPT-2 splits it into byte tokens.
  const auto ids = t.encode("猫");
  ASSERT_GT(ids.size(), 1u);
  StreamDecoder stream(t);
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_EQ(stream.push(ids[i]), "");
  EXPECT_EQ(stream.push(ids.back()), "猫");
  EXPECT_EQ(stream.flush(), "");
  // An unfinished character left at the end comes out as U+FFFD.
  EXPECT_EQ(stream.push(ids[0]), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
  // reset() drops it instead.
  EXPECT_EQ(stream.push(ids[0]), "");
  stream.reset();
  EXPECT_EQ(stream.push(ids[0]), "");
  EXPECT_EQ(stream.push(ids[1]), "");
  EXPECT_EQ(stream.push(ids[2]), "猫");
}

TEST(StreamDecoder, TinyLlamaStripsOnlyTheStreamStart) {
  BT_REQUIRE_SHARED("tokenizers/tinyllama/tokenizer.json", path);
  const Tokenizer t = testing::cached_tokenizer(path);
  const auto ids = t.encode("Hello world");  // "▁Hello", "▁world"
  ASSERT_EQ(ids.size(), 2u);
  StreamDecoder stream(t);
  EXPECT_EQ(stream.push(ids[0]), "Hello");
  EXPECT_EQ(stream.push(ids[1]), " world");
  EXPECT_EQ(stream.flush(), "");
  // After flush a new stream starts: its first space is stripped again.
  EXPECT_EQ(stream.push(ids[1]), "world");

  // Byte-fallback runs are released when the run ends.
  const auto cat = t.encode("猫!");
  StreamDecoder bytes(t);
  std::string out;
  for (const int32_t id : cat) out += bytes.push(id);
  out += bytes.flush();
  EXPECT_EQ(out, t.decode(cat));
}

TEST(StreamDecoder, CopiesContinueIndependently) {
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json", path);
  const Tokenizer t = testing::cached_tokenizer(path);
  const auto ids = t.encode("猫と犬");
  StreamDecoder a(t);
  std::string prefix;
  for (size_t i = 0; i < 2; ++i) prefix += a.push(ids[i]);
  StreamDecoder b = a;
  std::string rest_a;
  std::string rest_b;
  for (size_t i = 2; i < ids.size(); ++i) {
    rest_a += a.push(ids[i]);
    rest_b += b.push(ids[i]);
  }
  rest_a += a.flush();
  rest_b += b.flush();
  EXPECT_EQ(prefix + rest_a, "猫と犬");
  EXPECT_EQ(rest_a, rest_b);
}

TEST(StreamDecoder, RejectsOutOfRangeIds) {
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json", path);
  const Tokenizer t = testing::cached_tokenizer(path);
  StreamDecoder stream(t);
  EXPECT_THROW(stream.push(-1), Error);
  EXPECT_THROW(stream.push(t.vocab_size()), Error);
}

}  // namespace
}  // namespace bit_ttt
