#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "bit_ttt/error.h"
#include "bit_ttt/sampler.h"

namespace bit_ttt {
namespace {

// Pushes each chunk and returns what each push emitted.
std::vector<std::string> push_all(StopStringMatcher& matcher,
                                  const std::vector<std::string>& chunks) {
  std::vector<std::string> emitted;
  for (const std::string& chunk : chunks) emitted.push_back(matcher.push(chunk));
  return emitted;
}

using Strings = std::vector<std::string>;

TEST(StopStringMatcherTest, WithoutStopStringsEverythingPassesAtOnce) {
  StopStringMatcher matcher({});
  EXPECT_EQ(matcher.push("hello "), "hello ");
  EXPECT_EQ(matcher.push("world"), "world");
  EXPECT_EQ(matcher.flush(), "");
  EXPECT_FALSE(matcher.stopped());
}

TEST(StopStringMatcherTest, TextThatCannotStartAStopPassesAtOnce) {
  StopStringMatcher matcher({"</s>"});
  EXPECT_EQ(matcher.push("plain text"), "plain text");
  EXPECT_FALSE(matcher.stopped());
}

TEST(StopStringMatcherTest, StopSplitAcrossPushesIsNeverEmitted) {
  StopStringMatcher matcher({"world"});
  EXPECT_EQ(push_all(matcher, {"Hello wor", "l", "d! more"}), (Strings{"Hello ", "", ""}));
  EXPECT_TRUE(matcher.stopped());
  EXPECT_EQ(matcher.flush(), "");
}

TEST(StopStringMatcherTest, StopFedOneByteAtATime) {
  StopStringMatcher matcher({"<|im_end|>"});
  std::string emitted;
  for (char c : std::string("ok<|im_end|>junk")) emitted += matcher.push(std::string(1, c));
  EXPECT_EQ(emitted, "ok");
  EXPECT_TRUE(matcher.stopped());
}

TEST(StopStringMatcherTest, HeldPrefixIsReleasedWhenItTurnsOutNotToBeAStop) {
  StopStringMatcher matcher({"</s>"});
  EXPECT_EQ(matcher.push("a<"), "a");
  EXPECT_EQ(matcher.push("/"), "");
  EXPECT_EQ(matcher.push("b>"), "</b>");
  EXPECT_FALSE(matcher.stopped());
}

TEST(StopStringMatcherTest, FlushReturnsHeldText) {
  StopStringMatcher matcher({"STOP"});
  EXPECT_EQ(matcher.push("the end ST"), "the end ");
  EXPECT_EQ(matcher.flush(), "ST");
  EXPECT_FALSE(matcher.stopped());
}

TEST(StopStringMatcherTest, StopAtTheVeryStart) {
  StopStringMatcher matcher({"</s>"});
  EXPECT_EQ(matcher.push("</s>after"), "");
  EXPECT_TRUE(matcher.stopped());
  EXPECT_EQ(matcher.push("more"), "");
  EXPECT_EQ(matcher.flush(), "");
}

TEST(StopStringMatcherTest, EarliestOfSeveralStopsWins) {
  StopStringMatcher matcher({"END", "STOP"});
  EXPECT_EQ(matcher.push("xxSTOPyyEND"), "xx");
  EXPECT_TRUE(matcher.stopped());

  StopStringMatcher other({"END", "STOP"});
  EXPECT_EQ(push_all(other, {"ab", "cE", "N", "D"}), (Strings{"ab", "c", "", ""}));
  EXPECT_TRUE(other.stopped());
}

TEST(StopStringMatcherTest, ShorterStopInsideAHeldLongerPrefixStopsAtItsStart) {
  // "ab" is held as a start of "abcd"; then "bc" completes inside it.
  StopStringMatcher matcher({"abcd", "bc"});
  EXPECT_EQ(matcher.push("ab"), "");
  EXPECT_EQ(matcher.push("c"), "a");
  EXPECT_TRUE(matcher.stopped());
}

TEST(StopStringMatcherTest, OverlappingSelfPrefixes) {
  StopStringMatcher matcher({"aab"});
  EXPECT_EQ(push_all(matcher, {"a", "a", "a", "b"}), (Strings{"", "", "a", ""}));
  EXPECT_TRUE(matcher.stopped());

  StopStringMatcher abab({"abab"});
  EXPECT_EQ(abab.push("xaba"), "x");
  EXPECT_EQ(abab.push("c"), "abac");
  EXPECT_EQ(abab.push("abab"), "");
  EXPECT_TRUE(abab.stopped());

  StopStringMatcher partial({"abab"});
  EXPECT_EQ(partial.push("abaab"), "aba");  // "ab" may still become "abab"
  EXPECT_EQ(partial.push("ab"), "");
  EXPECT_TRUE(partial.stopped());
}

TEST(StopStringMatcherTest, Utf8MultiByteText) {
  // "。\n" is E3 80 82 0A: fed in whole characters...
  StopStringMatcher matcher({"。\n"});
  EXPECT_EQ(push_all(matcher, {"你", "好", "。", "\n世界"}), (Strings{"你", "好", "", ""}));
  EXPECT_TRUE(matcher.stopped());

  // ...and split inside characters, as byte-level tokens do.
  const std::string text = "über 你好。世界。\nnot shown";
  StopStringMatcher bytes({"。\n"});
  std::string emitted;
  for (char c : text) emitted += bytes.push(std::string(1, c));
  EXPECT_EQ(emitted, "über 你好。世界");
  EXPECT_TRUE(bytes.stopped());
}

TEST(StopStringMatcherTest, Utf8SharedLeadBytesAreReleased) {
  // 世界 and 世纪 share the first character; only the full 世界 stops.
  StopStringMatcher matcher({"世界"});
  EXPECT_EQ(matcher.push("新世"), "新");
  EXPECT_EQ(matcher.push("纪"), "世纪");
  EXPECT_EQ(matcher.push("世\xE7"), "");  // first byte of 界 (E7 95 8C) and of 纪 (E7 BA AA)
  EXPECT_EQ(matcher.push("\xBA\xAA"), "世纪");
  EXPECT_FALSE(matcher.stopped());
}

TEST(StopStringMatcherTest, EmptyStopStringIsRejected) {
  try {
    StopStringMatcher matcher({"ok", ""});
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("stop_strings[1]"), std::string::npos);
  }
}

// Against the obvious offline answer, over random text and random chunking.
TEST(StopStringMatcherTest, RandomChunkingMatchesOfflineSearch) {
  const std::vector<std::string> stops = {"abc", "bb", "cacb"};
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text;
    const size_t length = rng() % 24;
    for (size_t i = 0; i < length; ++i) text += static_cast<char>('a' + rng() % 3);

    size_t expected_stop = std::string::npos;
    for (const std::string& stop : stops) expected_stop = std::min(expected_stop, text.find(stop));

    StopStringMatcher matcher(stops);
    std::string emitted;
    for (size_t at = 0; at < text.size();) {
      const size_t chunk = 1 + rng() % 5;
      emitted += matcher.push(std::string_view(text).substr(at, chunk));
      at += chunk;
    }
    emitted += matcher.flush();
    SCOPED_TRACE(text);
    EXPECT_EQ(matcher.stopped(), expected_stop != std::string::npos);
    EXPECT_EQ(emitted, text.substr(0, expected_stop));
  }
}

}  // namespace
}  // namespace bit_ttt
