// The parts of BPE training: word counting (cutting streams into chunks and
// counting them in parallel must count exactly the words of the whole text)
// and the incremental merge loop (must equal recounting every pair per merge).
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tokenizer/bpe_trainer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/word_counter.h"
#include "tokenizer/word_counter_split.h"
#include "tokenizer_test_util.h"

namespace bit_ttt::tokenizer {
namespace {

using WordList = std::vector<std::pair<std::string, int64_t>>;

// Reference counting: leftmost-longest special tokens, then the GPT-2
// pattern over each whole stretch of text, no chunks.
WordList count_whole(std::string_view text, const std::vector<std::string>& specials) {
  std::map<std::string, int64_t> counts;
  const Regex regex(kGpt2PreTokenizerPattern, "test");
  std::vector<Match> matches, pieces;
  const auto count_plain = [&](std::string_view plain) {
    regex.find_all(plain, matches);
    pieces.clear();
    split_by_matches(plain.size(), matches, SplitBehavior::kIsolated, false, pieces);
    for (const Match& p : pieces) ++counts[std::string(plain.substr(p.begin, p.end - p.begin))];
  };
  size_t plain_begin = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t best = 0;
    for (const std::string& s : specials) {
      if (text.substr(pos, s.size()) == s) best = std::max(best, s.size());
    }
    if (best == 0) {
      ++pos;
      continue;
    }
    if (pos > plain_begin) count_plain(text.substr(plain_begin, pos - plain_begin));
    pos += best;
    plain_begin = pos;
  }
  if (pos > plain_begin) count_plain(text.substr(plain_begin, pos - plain_begin));
  return WordList(counts.begin(), counts.end());
}

// Text full of the cases where a bad cut would change the words: whitespace
// runs across line ends, CRLF, Unicode spaces, contractions, CJK, and special
// tokens, one of which holds whitespace.
std::string tricky_text(std::mt19937& rng, int n_pieces) {
  static const char* pieces[] = {"word",
                                 " word",
                                 "  ",
                                 "   ",
                                 "\n",
                                 "\n\n",
                                 " \n",
                                 "\r\n",
                                 "\t",
                                 "\xC2\xA0",
                                 "\xE3\x80\x80",
                                 "'s",
                                 "'ll",
                                 "don't",
                                 "123",
                                 " 45",
                                 "!!",
                                 " ?",
                                 "吾輩は猫である。",
                                 "。\r\n",
                                 "<|endoftext|>",
                                 "<sp ec>",
                                 "<sp",
                                 "ec>",
                                 "é",
                                 "🚀",
                                 " x",
                                 "y\n"};
  std::string text;
  for (int i = 0; i < n_pieces; ++i) text += pieces[rng() % std::size(pieces)];
  return text;
}

TEST(BpeWordCounter, ChunksAndThreadsCountTheWholeText) {
  const std::vector<std::string> specials = {"<|endoftext|>", "<sp ec>", "<sp"};
  std::mt19937 rng(1234);
  for (int round = 0; round < 25; ++round) {
    const std::string text = tricky_text(rng, 200);
    const WordList expected = count_whole(text, specials);
    for (const size_t chunk_bytes :
         {size_t(1), size_t(3), size_t(16), size_t(100), size_t(1) << 20}) {
      WordCountOptions options;
      options.special_tokens = specials;
      options.chunk_bytes = chunk_bytes;
      options.n_threads = 1 + round % 3;
      const WordCounts counts = count_words_in_text(text, options);
      ASSERT_EQ(counts.words, expected) << "round " << round << ", chunks of " << chunk_bytes;
      int64_t n_words = 0;
      for (const auto& [word, count] : expected) n_words += count;
      EXPECT_EQ(counts.n_words, n_words);
      EXPECT_EQ(counts.n_bytes, text.size());
    }
  }
}

TEST(BpeWordCounter, FilesAreSeparateTexts) {
  testing::TempDir dir;
  testing::write_file_bytes(dir / "a.txt", "end  ");
  testing::write_file_bytes(dir / "b.txt", "  start");
  WordCountOptions options;
  const WordCounts counts = count_words({dir / "a.txt", dir / "b.txt"}, options);
  // Run together, "  " + "  " would be one word "   " and " start".
  EXPECT_EQ(counts.words, (WordList{{" ", 1}, {"  ", 1}, {" start", 1}, {"end", 1}}));
  EXPECT_EQ(counts.n_bytes, 12u);
}

TEST(BpeWordCounter, SpecialTokensLeftmostLongest) {
  const SpecialTokenSplitter splitter({"<a>", "<a>b", "b<"});
  std::vector<Match> ranges;
  EXPECT_EQ(splitter.plain_ranges("x<a>by<a><a>", ranges), 3u);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].begin, 0u);
  EXPECT_EQ(ranges[0].end, 1u);
  EXPECT_EQ(ranges[1].begin, 5u);
  EXPECT_EQ(ranges[1].end, 6u);
  EXPECT_TRUE(splitter.crosses("x<a>b", 2));
  EXPECT_FALSE(splitter.crosses("x<a>b", 1));
  EXPECT_FALSE(splitter.crosses("x<a>b", 5));
}

TEST(BpeWordCounter, SafeCuts) {
  const SpecialTokenSplitter none({});
  EXPECT_EQ(last_safe_cut("hello world", none), 5u);
  EXPECT_EQ(last_safe_cut("a  b", none), 1u);  // not inside a whitespace run
  EXPECT_EQ(last_safe_cut("a\n\n", none), 1u);
  EXPECT_EQ(last_safe_cut("\xC2\xA0 x", none), 0u);  // NBSP is whitespace
  EXPECT_EQ(last_safe_cut("猫\r\n", none), 3u);
  EXPECT_EQ(last_safe_cut("nospace", none), 0u);
  EXPECT_EQ(last_safe_cut("hello world", none, 5), 0u);
  // A special token with a space is never cut, nor one that may still be
  // completed by the text that follows.
  const SpecialTokenSplitter spaced({"a b"});
  EXPECT_EQ(last_safe_cut("x a b", spaced), 1u);
  EXPECT_EQ(last_safe_cut("x y a b", spaced), 3u);
  EXPECT_EQ(last_safe_cut("x y a", spaced), 3u);   // "x y a b" would not cross 3
  EXPECT_EQ(last_safe_cut("x y a ", spaced), 3u);  // but could cross 5
}

// Recounts every pair for every merge: the definition the incremental loop
// must match (most frequent pair; ties to the greatest (left, right) bytes).
std::vector<std::pair<std::string, std::string>> naive_merges(const WordList& words,
                                                              size_t n_max_new, int64_t min_count) {
  std::vector<std::pair<std::vector<std::string>, int64_t>> split;
  for (const auto& [word, count] : words) {
    std::vector<std::string> symbols;
    for (const char c : word) symbols.emplace_back(1, c);
    split.emplace_back(symbols, count);
  }
  std::set<std::string> learned;
  std::vector<std::pair<std::string, std::string>> merges;
  while (learned.size() < n_max_new) {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& [symbols, count] : split) {
      for (size_t i = 0; i + 1 < symbols.size(); ++i) pairs[{symbols[i], symbols[i + 1]}] += count;
    }
    const std::pair<std::string, std::string>* best = nullptr;
    int64_t best_count = 0;
    for (const auto& [pair, count] : pairs) {
      if (count >= best_count) {  // ascending keys: the last of equal counts is the greatest
        best = &pair;
        best_count = count;
      }
    }
    if (best == nullptr || best_count < std::max<int64_t>(min_count, 1)) break;
    const auto merge = *best;
    merges.push_back(merge);
    const std::string merged = merge.first + merge.second;
    if (merged.size() > 1) learned.insert(merged);
    for (auto& [symbols, count] : split) {
      std::vector<std::string> out;
      for (size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == merge.first && symbols[i + 1] == merge.second) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(symbols[i]);
        }
      }
      symbols = std::move(out);
    }
  }
  return merges;
}

std::string byte_level(const std::string& raw) {
  std::string out;
  append_byte_level(raw, out);
  return out;
}

TEST(BpeMerges, IncrementalEqualsRecounting) {
  std::mt19937 rng(99);
  for (int round = 0; round < 60; ++round) {
    // Few distinct letters and long runs: many ties and "aaaa"-style overlaps.
    const char* alphabet[] = {"a", "b", "c", "a", "aa", " ", "é", "\n"};
    std::string text;
    const int n = 50 + round * 10;
    for (int i = 0; i < n; ++i) text += alphabet[rng() % (round % 2 ? 8 : 3)];
    const WordCounts counts = count_words_in_text(text, {});
    const size_t n_new = 5 + rng() % 60;
    const int64_t min_frequency = round % 5 == 0 ? 2 : 0;
    const auto expected = naive_merges(counts.words, n_new, min_frequency);

    BpeTrainOptions options;
    options.vocab_size = static_cast<int32_t>(256 + n_new);
    options.min_frequency = min_frequency;
    const BpeTrainResult result = train_bpe_on_words(counts, options);
    ASSERT_EQ(result.merges.size(), expected.size()) << "round " << round;
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(result.merges[i],
                (std::pair<std::string, std::string>(byte_level(expected[i].first),
                                                     byte_level(expected[i].second))))
          << "round " << round << ", merge " << i;
    }
    EXPECT_LE(result.vocab.size(), 256 + n_new);
  }
}

}  // namespace
}  // namespace bit_ttt::tokenizer
