// Llama-3 (regex Split + ByteLevel, ignore_merges): properties reasoned from
// HF's semantics; exact ids for many texts are in hf_golden_test.cc.
#include <gtest/gtest.h>

#include <thread>

#include "tokenizer_test_util.h"

namespace bit_ttt {
namespace {

// The text of each token of `text`, i.e. how it was cut.
std::vector<std::string> pieces(const Tokenizer& t, const std::string& text) {
  std::vector<std::string> out;
  for (const int32_t id : t.encode(text)) {
    const int32_t one[] = {id};
    out.push_back(t.decode(one));
  }
  return out;
}

using Pieces = std::vector<std::string>;

class Llama3 : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = testing::shared_data_dir() / "tokenizers/llama3/tokenizer.json";
    if (testing::shared_data_dir().empty() || !std::filesystem::exists(path)) {
      GTEST_SKIP() << "shared data file not found: tokenizers/llama3/tokenizer.json";
    }
    tokenizer_ = testing::cached_tokenizer(path);
  }
  std::optional<Tokenizer> tokenizer_;
};

TEST_F(Llama3, Metadata) {
  const Tokenizer& t = *tokenizer_;
  EXPECT_EQ(t.vocab_size(), 128256);
  EXPECT_EQ(t.bos_id(), 128000);  // <|begin_of_text|>
  EXPECT_EQ(t.eos_id(), 128001);  // <|end_of_text|>
  const auto stops = t.stop_ids();
  EXPECT_NE(std::find(stops.begin(), stops.end(), 128001), stops.end());
  EXPECT_NE(std::find(stops.begin(), stops.end(), 128009), stops.end());  // <|eot_id|>
  EXPECT_TRUE(t.is_special(128000));
  EXPECT_TRUE(t.is_special(128255));
  EXPECT_FALSE(t.is_special(9906));
  EXPECT_EQ(t.id_to_token(128009), "<|eot_id|>");
}

TEST_F(Llama3, SpecialTokens) {
  const Tokenizer& t = *tokenizer_;
  // This file's post-processor is ByteLevel: HF adds no BOS even with
  // add_special_tokens, but a BOS written in the text is matched either way.
  EXPECT_EQ(t.encode("Hello", true), t.encode("Hello", false));
  const auto ids = t.encode("<|begin_of_text|>Hello<|eot_id|>");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 128000);
  EXPECT_EQ(ids.back(), 128009);
  EXPECT_EQ(t.decode(ids, true), "Hello");
  EXPECT_EQ(t.decode(ids), "<|begin_of_text|>Hello<|eot_id|>");
  // Not a complete special token: plain text.
  EXPECT_EQ(t.decode(t.encode("<|begin_of_text")), "<|begin_of_text");
  EXPECT_NE(t.encode("<|begin_of_text").front(), 128000);
}

TEST_F(Llama3, PreTokenization) {
  const Tokenizer& t = *tokenizer_;
  // Contractions match case-insensitively.
  EXPECT_EQ(pieces(t, "I'M"), (Pieces{"I", "'M"}));
  EXPECT_EQ(pieces(t, "we're WE'RE"), (Pieces{"we", "'re", " WE", "'RE"}));
  // Numbers are cut in groups of up to three digits.
  EXPECT_EQ(pieces(t, "1234567"), (Pieces{"123", "456", "7"}));
  // A letter run takes one leading non-letter, non-newline character, so a
  // token may span both.
  EXPECT_EQ(pieces(t, "(hello").front(), "(h");
  EXPECT_EQ(pieces(t, "\nhello").front(), "\n");
  // Whitespace before a word: all but the last space stand alone.
  EXPECT_EQ(pieces(t, "a    b"), (Pieces{"a", "   ", " b"}));
  // Newline runs (with the spaces before them) are one piece.
  const auto newline = pieces(t, "a\n\nb");
  EXPECT_EQ(newline, (Pieces{"a", "\n\n", "b"}));
}

TEST_F(Llama3, IgnoreMerges) {
  // " việc" is a vocab token that the merges alone would split: with
  // ignore_merges the pre-token is emitted whole (ids from HF 0.23.2).
  EXPECT_EQ(tokenizer_->encode(" việc"), (std::vector<int32_t>{100769}));
  const auto path = testing::shared_data_dir() / "tokenizers/llama3/tokenizer.json";
  nlohmann::json json = testing::read_json(path);
  json["model"]["ignore_merges"] = false;
  const Tokenizer merged = Tokenizer::from_json_text(json.dump(), "llama3 without ignore_merges");
  EXPECT_EQ(merged.encode(" việc"), (std::vector<int32_t>{3355, 26298, 66}));
  EXPECT_EQ(merged.fingerprint(), tokenizer_->fingerprint());
}

TEST_F(Llama3, DecodeRoundTrips) {
  const Tokenizer& t = *tokenizer_;
  BT_REQUIRE_SHARED("ja/ai.ja.txt", ja_path);
  const std::string japanese = testing::read_file_bytes(ja_path).substr(0, 6000);
  for (const std::string& text :
       {std::string("Hello, world!"), std::string("  spaces\tand\ttabs \n\n\n"),
        std::string("emoji 🚀😶‍🌫️👨‍👩‍👧 done"),
        std::string("日本語 テキスト"), japanese, std::string("x\u00a0\u0085\u2028y")}) {
    EXPECT_EQ(t.decode(t.encode(text)), text);
  }
}

TEST_F(Llama3, ConcurrentEncodeMatchesSerial) {
  const Tokenizer& t = *tokenizer_;
  BT_REQUIRE_SHARED("tinystories/valid.txt", text_path);
  const std::string text = testing::read_file_bytes(text_path).substr(0, 60000);
  std::vector<std::string> chunks;
  for (size_t pos = 0; pos < text.size(); pos += 3000) chunks.push_back(text.substr(pos, 3000));
  std::vector<std::vector<int32_t>> serial;
  for (const auto& chunk : chunks) serial.push_back(t.encode(chunk));
  std::vector<std::thread> threads;
  std::vector<int> n_mismatches(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      const Tokenizer copy = t;  // copies share the loaded data
      for (size_t i = 0; i < chunks.size(); ++i) {
        const size_t index = (i + static_cast<size_t>(k) * 5) % chunks.size();
        if (copy.encode(chunks[index]) != serial[index]) ++n_mismatches[static_cast<size_t>(k)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(n_mismatches, (std::vector<int>{0, 0, 0, 0}));
}

}  // namespace
}  // namespace bit_ttt
