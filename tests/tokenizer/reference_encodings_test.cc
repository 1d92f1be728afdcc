// The shared reference encodings (HF tokenizers 0.23.2, and tiktoken for
// GPT-2) for GPT-2 and TinyLlama: ids, ids with special tokens, round trips.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace bit_ttt {
namespace {

using testing::cached_tokenizer;
using testing::read_json;

void check_reference_cases(const std::filesystem::path& tokenizer_path,
                           const std::filesystem::path& cases_path) {
  const Tokenizer tokenizer = cached_tokenizer(tokenizer_path);
  const nlohmann::json cases = read_json(cases_path)["cases"];
  ASSERT_GT(cases.size(), 40u);
  for (const auto& c : cases) {
    const std::string name = c["name"];
    const std::string text = c["text"];
    SCOPED_TRACE("case " + name);
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer.encode(text, false), ids);
    EXPECT_EQ(tokenizer.encode(text, true), c["ids_with_special"].get<std::vector<int32_t>>());
    if (c.contains("tiktoken_ids")) {
      EXPECT_EQ(c["tiktoken_ids"].get<std::vector<int32_t>>(), ids);
    }
    if (c.contains("tokens")) {
      const auto tokens = c["tokens"].get<std::vector<std::string>>();
      ASSERT_EQ(tokens.size(), ids.size());
      for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(tokenizer.id_to_token(ids[i]), tokens[i]);
    }
    const std::string decoded = tokenizer.decode(ids);
    if (c["decode_roundtrip_equal"].get<bool>()) {
      EXPECT_EQ(decoded, text);
    } else {
      EXPECT_TRUE(testing::is_valid_utf8(decoded));
    }
  }
}

TEST(ReferenceEncodings, Gpt2) {
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json", tokenizer_path);
  BT_REQUIRE_SHARED("tokenizers/gpt2/reference_encodings.json", cases_path);
  check_reference_cases(tokenizer_path, cases_path);
}

TEST(ReferenceEncodings, Gpt2PairMerges) {
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.pairs-merges.json", tokenizer_path);
  BT_REQUIRE_SHARED("tokenizers/gpt2/reference_encodings.json", cases_path);
  check_reference_cases(tokenizer_path, cases_path);
}

TEST(ReferenceEncodings, TinyLlama) {
  BT_REQUIRE_SHARED("tokenizers/tinyllama/tokenizer.json", tokenizer_path);
  BT_REQUIRE_SHARED("tokenizers/tinyllama/reference_encodings.json", cases_path);
  check_reference_cases(tokenizer_path, cases_path);
}

TEST(ReferenceEncodings, Gpt2MergeFormatsAgree) {
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json", strings_path);
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.pairs-merges.json", pairs_path);
  BT_REQUIRE_SHARED("tinystories/valid.txt", text_path);
  const Tokenizer strings = cached_tokenizer(strings_path);
  const Tokenizer pairs = cached_tokenizer(pairs_path);
  EXPECT_EQ(strings.fingerprint(), pairs.fingerprint());
  EXPECT_EQ(strings.vocab_size(), pairs.vocab_size());
  const std::string text = testing::read_file_bytes(text_path).substr(0, 200000);
  EXPECT_EQ(strings.encode(text), pairs.encode(text));
}

TEST(ReferenceEncodings, Gpt2Metadata) {
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json", path);
  const Tokenizer t = cached_tokenizer(path);
  EXPECT_EQ(t.vocab_size(), 50257);
  EXPECT_EQ(t.eos_id(), 50256);
  EXPECT_EQ(t.bos_id(), 50256);
  EXPECT_TRUE(t.is_special(50256));
  EXPECT_FALSE(t.is_special(198));
  EXPECT_EQ(t.token_to_id("<|endoftext|>"), 50256);
  EXPECT_EQ(t.token_to_id("Ġthe"), 262);
  EXPECT_EQ(t.id_to_token(262), "Ġthe");
  EXPECT_FALSE(t.token_to_id("definitely not a token"));
  EXPECT_THROW(t.id_to_token(50257), Error);
  EXPECT_THROW(t.id_to_token(-1), Error);
  EXPECT_EQ(t.fingerprint().size(), 16u);
  EXPECT_EQ(t.source_name(), path.string());
  const std::vector<int32_t> ids = {15496, 50256, 995};
  EXPECT_EQ(t.decode(ids), "Hello<|endoftext|> world");
  EXPECT_EQ(t.decode(ids, true), "Hello world");
  const std::vector<int32_t> bad = {15496, 50257};
  EXPECT_THROW(t.decode(bad), Error);
}

TEST(ReferenceEncodings, TinyLlamaMetadata) {
  BT_REQUIRE_SHARED("tokenizers/tinyllama/tokenizer.json", path);
  const Tokenizer t = cached_tokenizer(path);
  EXPECT_EQ(t.vocab_size(), 32000);
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_TRUE(t.is_special(0));
  EXPECT_TRUE(t.is_special(1));
  EXPECT_TRUE(t.is_special(2));
  EXPECT_FALSE(t.is_special(3));
  EXPECT_EQ(t.token_to_id("<0x0A>"), 13);
  // Values checked against HF tokenizers 0.23.2 decode.
  const std::vector<int32_t> with_bos = {1, 15043};
  EXPECT_EQ(t.decode(with_bos), "<s> Hello");
  EXPECT_EQ(t.decode(with_bos, true), "Hello");
  // A run of byte tokens that is not valid UTF-8 becomes one U+FFFD per byte.
  const std::vector<int32_t> broken = {3 + 0xE3, 3 + 0x81, 3 + 0x82, 3 + 0xE3, 15043};
  EXPECT_EQ(t.decode(broken), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD Hello");
  const std::vector<int32_t> valid = {3 + 0xE3, 3 + 0x81, 3 + 0x82, 15043};
  EXPECT_EQ(t.decode(valid), "\xE3\x81\x82 Hello");
  const std::vector<int32_t> spaces = {259, 15043};
  EXPECT_EQ(t.decode(spaces), "  Hello");
}

}  // namespace
}  // namespace bit_ttt
