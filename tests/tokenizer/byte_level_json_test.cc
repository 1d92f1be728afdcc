// byte_level_tokenizer_json: the byte vocab of untrained models loads and
// round-trips any text (that HF tokenizers loads it the same way is checked
// by the "byte_level_generated" suite of hf_golden_test.cc).
#include <gtest/gtest.h>

#include <random>

#include "tokenizer_test_util.h"

namespace bit_ttt {
namespace {

TEST(ByteLevelJson, LoadsWithByteIdsAndSpecials) {
  const Tokenizer t = Tokenizer::from_json_text(
      byte_level_tokenizer_json({"<|endoftext|>", "<|pad|>"}), "byte level");
  EXPECT_EQ(t.vocab_size(), 258);
  EXPECT_EQ(t.token_to_id("<|endoftext|>"), 256);
  EXPECT_EQ(t.token_to_id("<|pad|>"), 257);
  EXPECT_EQ(t.eos_id(), 256);
  EXPECT_TRUE(t.is_special(256));
  EXPECT_FALSE(t.is_special(65));
  EXPECT_EQ(t.id_to_token(' '), "Ġ");  // GPT-2's symbol for the space byte
  EXPECT_EQ(t.id_to_token('A'), "A");
  EXPECT_EQ(t.id_to_token(0), "Ā");
  EXPECT_EQ(t.encode("a<|endoftext|>b"), (std::vector<int32_t>{'a', 256, 'b'}));

  const Tokenizer plain = Tokenizer::from_json_text(byte_level_tokenizer_json({}), "bytes");
  EXPECT_EQ(plain.vocab_size(), 256);
  EXPECT_EQ(plain.fingerprint(),
            Tokenizer::from_json_text(byte_level_tokenizer_json({}), "again").fingerprint());
  EXPECT_NE(plain.fingerprint(), t.fingerprint());
}

TEST(ByteLevelJson, EncodeIsTheUtf8Bytes) {
  const Tokenizer t =
      Tokenizer::from_json_text(byte_level_tokenizer_json({"<|endoftext|>"}), "byte level");
  std::vector<std::string> texts = {"", "Hello, world!", "日本語のテキスト、カタカナ。",
                                    "🚀 emoji\n\ttabs   spaces", std::string("nul\0byte", 8)};
  // Random valid UTF-8 of every length class.
  std::mt19937 rng(7);
  for (int n = 0; n < 50; ++n) {
    std::string text;
    for (int k = 0; k < 40; ++k) {
      const uint32_t ranges[][2] = {
          {0x01, 0x7F}, {0x80, 0x7FF}, {0x800, 0xD7FF}, {0xE000, 0xFFFF}, {0x10000, 0x10FFFF}};
      const auto& range = ranges[rng() % 5];
      const uint32_t cp = range[0] + rng() % (range[1] - range[0] + 1);
      if (cp < 0x80) {
        text += static_cast<char>(cp);
      } else if (cp < 0x800) {
        text += static_cast<char>(0xC0 | (cp >> 6));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        text += static_cast<char>(0xE0 | (cp >> 12));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        text += static_cast<char>(0xF0 | (cp >> 18));
        text += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    const auto ids = t.encode(text);
    ASSERT_EQ(ids.size(), text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      EXPECT_EQ(ids[i], static_cast<unsigned char>(text[i]));
    }
    EXPECT_EQ(t.decode(ids), text);
  }
}

TEST(ByteLevelJson, AnyByteIdsDecodeToValidUtf8) {
  const Tokenizer t = Tokenizer::from_json_text(byte_level_tokenizer_json({}), "bytes");
  std::mt19937 rng(11);
  for (int n = 0; n < 200; ++n) {
    std::vector<int32_t> ids(rng() % 20);
    for (int32_t& id : ids) id = static_cast<int32_t>(rng() % 256);
    const std::string text = t.decode(ids);
    EXPECT_TRUE(testing::is_valid_utf8(text));
    StreamDecoder stream(t);
    std::string streamed;
    for (const int32_t id : ids) streamed += stream.push(id);
    streamed += stream.flush();
    EXPECT_EQ(streamed, text);
  }
  // Ill-formed sequences become U+FFFD per maximal subpart, like HF.
  const std::vector<int32_t> surrogate = {0xED, 0xA0, 0x80};
  EXPECT_EQ(t.decode(surrogate), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  const std::vector<int32_t> truncated = {0xF0, 0x9F, 0x98, 'A'};
  EXPECT_EQ(t.decode(truncated),
            "\xEF\xBF\xBD"
            "A");
}

TEST(ByteLevelJson, RejectsBadSpecialTokens) {
  EXPECT_THROW(byte_level_tokenizer_json({""}), Error);
  EXPECT_THROW(byte_level_tokenizer_json({"<a>", "<a>"}), Error);
  EXPECT_THROW(byte_level_tokenizer_json({"Ġ"}), Error);  // already the space byte
  EXPECT_THROW(byte_level_tokenizer_json({std::string("\xFF")}), Error);
}

}  // namespace
}  // namespace bit_ttt
