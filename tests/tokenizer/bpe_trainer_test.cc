// Byte-level BPE training: the bpe-train-reference merges and vocab exactly,
// Japanese round trips through the written tokenizer.json, atomic special
// tokens, errors, and determinism (same input -> same bytes, any thread count).
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "tokenizer/bpe_trainer.h"
#include "tokenizer_test_util.h"

namespace bit_ttt {
namespace {

using tokenizer::BpeTrainOptions;
using tokenizer::BpeTrainResult;

constexpr const char* kEndOfText = "<|endoftext|>";

BpeTrainOptions options_for(int32_t vocab_size, std::vector<std::string> specials = {kEndOfText}) {
  BpeTrainOptions options;
  options.vocab_size = vocab_size;
  options.special_tokens = std::move(specials);
  return options;
}

Tokenizer load_trained(const BpeTrainResult& result) {
  return Tokenizer::from_json_text(tokenizer::bpe_tokenizer_json(result), "trained");
}

TEST(BpeTrainer, ReproducesReferenceMergesAndVocab) {
  BT_REQUIRE_SHARED("tokenizers/bpe-train-reference/corpus.en", corpus);
  const auto dir = corpus.parent_path();
  const BpeTrainResult result = tokenizer::train_bpe({corpus}, options_for(500));

  std::vector<std::pair<std::string, std::string>> expected_merges;
  std::ifstream merges_file(dir / "train-bpe-reference-merges.txt");
  for (std::string line; std::getline(merges_file, line);) {
    const size_t space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << line;
    expected_merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  ASSERT_EQ(expected_merges.size(), 243u);
  ASSERT_EQ(result.merges.size(), expected_merges.size());
  for (size_t i = 0; i < expected_merges.size(); ++i)
    ASSERT_EQ(result.merges[i], expected_merges[i]) << "merge " << i;

  const nlohmann::json expected_vocab = testing::read_json(dir / "train-bpe-reference-vocab.json");
  std::map<std::string, int64_t> expected, actual;
  for (const auto& [token, id] : expected_vocab.items()) expected[token] = id.get<int64_t>();
  for (size_t id = 0; id < result.vocab.size(); ++id)
    actual[result.vocab[id]] = static_cast<int64_t>(id);
  EXPECT_EQ(actual, expected);
}

TEST(BpeTrainer, WrittenTokenizerLoadsAndEncodesWithMerges) {
  BT_REQUIRE_SHARED("tokenizers/bpe-train-reference/corpus.en", corpus);
  const BpeTrainResult result = tokenizer::train_bpe({corpus}, options_for(500));
  testing::TempDir dir;
  tokenizer::write_bpe_tokenizer(dir / "tokenizer.json", result);
  const Tokenizer t = Tokenizer::load((dir / "tokenizer.json").string());
  EXPECT_EQ(t.vocab_size(), 500);
  EXPECT_EQ(t.token_to_id(kEndOfText), 0);
  EXPECT_TRUE(t.is_special(0));
  EXPECT_EQ(t.eos_id(), 0);
  EXPECT_EQ(t.token_to_id("!"), 1);  // the byte alphabet in code point order
  EXPECT_EQ(t.token_to_id("Ġthe"), t.encode(" the").at(0));
  EXPECT_EQ(t.encode(" the").size(), 1u);
  const std::string text = testing::read_file_bytes(corpus);
  EXPECT_EQ(t.decode(t.encode(text)), text);
  EXPECT_LT(t.encode(text).size(), text.size() / 2);  // the merges compress
  // The fingerprint depends on the content only.
  EXPECT_EQ(t.fingerprint(), load_trained(result).fingerprint());
}

TEST(BpeTrainer, JapaneseRoundTrips) {
  for (const char* name : {"ja/ai.ja.txt", "ja/neko.txt"}) {
    BT_REQUIRE_SHARED(name, path);
    const BpeTrainResult result = tokenizer::train_bpe({path}, options_for(1000));
    EXPECT_EQ(result.vocab.size(), 1000u) << name;
    const Tokenizer t = load_trained(result);
    const std::string text = testing::read_file_bytes(path);
    const std::vector<int32_t> ids = t.encode(text);
    EXPECT_EQ(t.decode(ids), text) << name;
    EXPECT_LT(ids.size(), text.size() / 2) << name;
    // CRLF line ends are ordinary whitespace words: "\r\n" is learned.
    if (std::string(name) == "ja/neko.txt") {
      EXPECT_TRUE(t.token_to_id("čĊ").has_value());
    }
    for (const std::string& sample : {std::string("吾輩は猫である。名前はまだ無い。\r\n"),
                                      std::string("人工知能（AI）の研究 <|endoftext|> 🚀")})
      EXPECT_EQ(t.decode(t.encode(sample)), sample) << name;
  }
}

TEST(BpeTrainer, SpecialTokensStayAtomic) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "story one<|endoftext|>story two<|endoftext|><|pad|>";
  const BpeTrainResult result =
      tokenizer::train_bpe_on_text(text, options_for(300, {kEndOfText, "<|pad|>"}));
  ASSERT_EQ(result.vocab.at(0), kEndOfText);
  ASSERT_EQ(result.vocab.at(1), "<|pad|>");
  for (size_t id = 2 + 256; id < result.vocab.size(); ++id) {  // the learned tokens
    EXPECT_EQ(result.vocab[id].find('<'), std::string::npos) << result.vocab[id];
    EXPECT_EQ(result.vocab[id].find('|'), std::string::npos) << result.vocab[id];
  }
  EXPECT_GT(result.vocab.size(), 2u + 256u);
  const Tokenizer t = load_trained(result);
  const std::vector<int32_t> ids = t.encode("story two<|endoftext|><|pad|>story");
  EXPECT_EQ(ids, (std::vector<int32_t>{*t.token_to_id("story"), *t.token_to_id("Ġtwo"), 0, 1,
                                       *t.token_to_id("story")}));
}

TEST(BpeTrainer, Errors) {
  testing::expect_error([] { tokenizer::train_bpe_on_text("some text", options_for(256)); },
                        {"vocab size 256", "256 byte tokens + 1 special tokens = 257"});
  testing::expect_error([] { tokenizer::train_bpe_on_text("some text", options_for(100, {})); },
                        {"vocab size 100", "= 256"});
  testing::expect_error([] { tokenizer::train_bpe_on_text("", options_for(300)); },
                        {"no text", "empty"});
  testing::expect_error(
      [] { tokenizer::train_bpe_on_text("<|endoftext|><|endoftext|>", options_for(300)); },
      {"no text", "only special tokens"});
  testing::expect_error([] { tokenizer::train_bpe_on_text("x", options_for(300, {""})); },
                        {"special token is empty"});
  testing::expect_error(
      [] {
        tokenizer::train_bpe_on_text("x", options_for(300, {"<a>", "<a>"}));
      },
      {"\"<a>\" is repeated"});
  testing::expect_error([] { tokenizer::train_bpe_on_text("x", options_for(300, {"!"})); },
                        {"\"!\" is also a byte symbol"});
  testing::expect_error([] { tokenizer::train_bpe_on_text("bad \xff byte", options_for(300)); },
                        {"not valid UTF-8", "offset 4"});
  testing::TempDir dir;
  testing::write_file_bytes(dir / "empty.txt", "");
  testing::expect_error([&] { tokenizer::train_bpe({dir / "empty.txt"}, options_for(300)); },
                        {"no text", "empty"});
  testing::expect_error([&] { tokenizer::train_bpe({dir / "missing.txt"}, options_for(300)); },
                        {"cannot open", "missing.txt"});
  testing::expect_error([] { tokenizer::train_bpe({}, options_for(300)); }, {"no input files"});
}

TEST(BpeTrainer, StopsWhenNothingIsLeftToMerge) {
  const BpeTrainResult result = tokenizer::train_bpe_on_text("abab abab", options_for(10000));
  // "ab" (4 times), "abab" (2), "Ġabab" (1); then each word is one token.
  ASSERT_EQ(result.merges.size(), 3u);
  EXPECT_EQ(result.merges[2], (std::pair<std::string, std::string>("Ġ", "abab")));
  EXPECT_EQ(result.vocab.size(), 257u + 3u);
  BpeTrainOptions options = options_for(10000);
  options.min_frequency = 3;  // only "a b" occurs 3 times or more
  EXPECT_EQ(tokenizer::train_bpe_on_text("abab abab", options).merges.size(), 1u);
}

TEST(BpeTrainer, DeterministicAcrossRunsAndThreads) {
  BT_REQUIRE_SHARED("ja/ai.ja.txt", ja);
  BT_REQUIRE_SHARED("tokenizers/bpe-train-reference/corpus.en", en);
  std::string first;
  for (const int n_threads : {1, 2, 3}) {
    for (const size_t chunk_bytes : {size_t(1) << 20, size_t(4096)}) {
      BpeTrainOptions options = options_for(800);
      options.n_threads = n_threads;
      options.chunk_bytes = chunk_bytes;
      const std::string json =
          tokenizer::bpe_tokenizer_json(tokenizer::train_bpe({en, ja}, options));
      if (first.empty()) first = json;
      EXPECT_EQ(json, first) << n_threads << " threads, chunks of " << chunk_bytes;
    }
  }
  testing::TempDir dir;
  BpeTrainOptions options = options_for(800);
  tokenizer::write_bpe_tokenizer(dir / "a.json", tokenizer::train_bpe({en, ja}, options));
  tokenizer::write_bpe_tokenizer(dir / "b.json", tokenizer::train_bpe({en, ja}, options));
  EXPECT_EQ(testing::read_file_bytes(dir / "a.json"), testing::read_file_bytes(dir / "b.json"));
  EXPECT_EQ(Tokenizer::load((dir / "a.json").string()).fingerprint(),
            Tokenizer::load((dir / "b.json").string()).fingerprint());
}

}  // namespace
}  // namespace bit_ttt
