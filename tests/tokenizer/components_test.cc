// Unit tests of the tokenizer's building blocks (src/tokenizer/*.h).
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level.h"
#include "tokenizer/decoder.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"

namespace bit_ttt::tokenizer {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, FindInvalid) {
  EXPECT_EQ(find_invalid_utf8(""), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("plain ascii text that is long enough"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("日本語 🚀"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("abc\x80"), 3u);              // lone continuation
  EXPECT_EQ(find_invalid_utf8("ab\xC0\xAF"), 2u);           // overlong
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);         // surrogate
  EXPECT_EQ(find_invalid_utf8("x\xF4\x90\x80\x80"), 1u);    // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("0123456789\xE3\x81"), 10u);  // truncated at the end
}

TEST(Utf8, LossyMatchesMaximalSubparts) {
  const auto lossy = [](const std::string& bytes) {
    std::string out;
    LossyUtf8Decoder d;
    d.push(bytes, out);
    d.finish(out);
    return out;
  };
  EXPECT_EQ(lossy("ok"), "ok");
  EXPECT_EQ(lossy("\xE3\x81"
                  "A"),
            kFffd + "A");                                   // truncated 3-byte sequence
  EXPECT_EQ(lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // surrogate: 3 subparts
  EXPECT_EQ(lossy("\xF4IJ\x80\x80"), kFffd + "IJ" + kFffd + kFffd);
  EXPECT_EQ(lossy("\xF0\x9F\x98"), kFffd);  // unfinished at the end
  EXPECT_EQ(lossy("\xC3\x80"), "\xC3\x80");
  // Chunking does not change the result.
  const std::string bytes =
      "a\xE7\x8C\xAB\xF0\x9F\x9A\x80\xFF\xE3\x81"
      "b\xC3";
  std::string whole = lossy(bytes);
  std::string pieces;
  LossyUtf8Decoder d;
  for (const char c : bytes) d.push(std::string(1, c), pieces);
  d.finish(pieces);
  EXPECT_EQ(pieces, whole);
}

TEST(Utf8, Whitespace) {
  for (const char32_t cp : {0x09u, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x200Au, 0x2028u,
                            0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    EXPECT_TRUE(is_unicode_whitespace(cp)) << static_cast<uint32_t>(cp);
  }
  for (const char32_t cp : {0x08u, 0x41u, 0x180Eu, 0x200Bu, 0xFEFFu}) {
    EXPECT_FALSE(is_unicode_whitespace(cp)) << static_cast<uint32_t>(cp);
  }
}

TEST(ByteLevelMap, IsABijection) {
  std::set<std::string> symbols;
  for (int b = 0; b < 256; ++b) {
    const std::string& s = byte_symbol(static_cast<unsigned char>(b));
    symbols.insert(s);
    size_t pos = 0;
    EXPECT_EQ(symbol_byte(next_code_point(s, pos)), b);
  }
  EXPECT_EQ(symbols.size(), 256u);
  EXPECT_EQ(byte_symbol(' '), "Ġ");
  EXPECT_EQ(byte_symbol('\n'), "Ċ");
  EXPECT_EQ(byte_symbol('a'), "a");
  EXPECT_EQ(symbol_byte(0x20AC), -1);
}

TEST(Regex, OnigurumaCompatibleRewrite) {
  EXPECT_EQ(oniguruma_compatible("abc"), "abc");
  EXPECT_EQ(oniguruma_compatible(R"(\p{Lu}+)"), R"(\p{Lu}+)");
  EXPECT_EQ(oniguruma_compatible(R"(\Q\s\E)"), R"(\Q\s\E)");
  // \s becomes White_Space exactly, inside and outside classes.
  const Regex space(R"(\s+)", "test");
  const Regex not_space(R"([^\s]+)", "test");
  std::vector<Match> m;
  space.find_all(
      "a\xC2\x85"
      "b\xE1\xA0\x8E"
      "c",
      m);  // U+0085 is space, U+180E is not
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].begin, 1u);
  EXPECT_EQ(m[0].end, 3u);
  not_space.find_all(
      "a\xC2\x85"
      "b",
      m);
  EXPECT_EQ(m.size(), 2u);
  // Letters newer than PCRE2's Unicode tables still count as \p{L}.
  const Regex letters(R"(\p{L}+)", "test");
  letters.find_all("\xF0\x9E\x80\xB1", m);  // U+1E031 (Unicode 15)
  EXPECT_EQ(m.size(), 1u);
  // Oniguruma's \h is a hex digit and its \w includes combining marks.
  const Regex hex(R"(\h+)", "test");
  hex.find_all("xx09afAF zz", m);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].end - m[0].begin, 6u);
  const Regex word(R"(\w+)", "test");
  word.find_all("e\xCC\x81x-y", m);  // "é" as e + U+0301
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].end, 4u);
}

TEST(Regex, FindAllSkipsEmptyMatchAfterMatch) {
  const Regex r("a*", "test");
  std::vector<Match> m;
  r.find_all("baab", m);
  // Like Rust's find_iter: "" at 0, "aa" at 1..3, "" at 4 (not at 3).
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].begin, 0u);
  EXPECT_EQ(m[1].begin, 1u);
  EXPECT_EQ(m[1].end, 3u);
  EXPECT_EQ(m[2].begin, 4u);
}

std::vector<std::string> split_text(const std::string& text, const std::string& delimiter,
                                    SplitBehavior behavior, bool invert) {
  std::vector<Match> matches;
  find_literal(text, delimiter, matches);
  std::vector<Match> pieces;
  split_by_matches(text.size(), matches, behavior, invert, pieces);
  std::vector<std::string> out;
  for (const Match& p : pieces) out.push_back(text.substr(p.begin, p.end - p.begin));
  return out;
}

using Strings = std::vector<std::string>;

TEST(Split, Behaviors) {
  const std::string text = "a--b-c-";
  EXPECT_EQ(split_text(text, "-", SplitBehavior::kRemoved, false), (Strings{"a", "b", "c"}));
  EXPECT_EQ(split_text(text, "-", SplitBehavior::kIsolated, false),
            (Strings{"a", "-", "-", "b", "-", "c", "-"}));
  EXPECT_EQ(split_text(text, "-", SplitBehavior::kMergedWithPrevious, false),
            (Strings{"a-", "-", "b-", "c-"}));
  EXPECT_EQ(split_text(text, "-", SplitBehavior::kMergedWithNext, false),
            (Strings{"a", "-", "-b", "-c", "-"}));
  EXPECT_EQ(split_text(text, "-", SplitBehavior::kContiguous, false),
            (Strings{"a", "--", "b", "-", "c", "-"}));
  // Inverted: the matches are the words and the rest the delimiters.
  EXPECT_EQ(split_text("xaxxa", "a", SplitBehavior::kRemoved, true), (Strings{"a", "a"}));
  EXPECT_EQ(split_text("xaxxa", "a", SplitBehavior::kMergedWithNext, true), (Strings{"xa", "xxa"}));
  EXPECT_EQ(split_text("", "-", SplitBehavior::kIsolated, false), (Strings{}));
}

// Decoder pipelines fed token by token; expected values from HF 0.23.2.
std::string decode_tokens(const nlohmann::json& decoder, const Strings& tokens) {
  const DecoderPipeline pipeline(decoder, "test.json");
  DecodeState state(pipeline);
  std::string out;
  for (const std::string& t : tokens) state.push_token(t, out);
  state.finish(out);
  return out;
}

TEST(Decoder, MetaspaceDropsReplacementsOfTheFirstTokenOnly) {
  const auto metaspace = [](const char* scheme) {
    return nlohmann::json{
        {"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", scheme}, {"split", true}};
  };
  EXPECT_EQ(decode_tokens(metaspace("always"), {"a▁b▁", "▁c"}), "ab c");
  EXPECT_EQ(decode_tokens(metaspace("first"), {"▁▁a", "▁c"}), "a c");
  EXPECT_EQ(decode_tokens(metaspace("never"), {"a▁b▁", "▁c"}), "a b  c");
  EXPECT_EQ(decode_tokens(metaspace("always"), {"", "▁c"}), " c");
}

TEST(Decoder, StripPerTokenAndAfterFuse) {
  const nlohmann::json strip = {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}};
  EXPECT_EQ(decode_tokens(strip, {" a ", "  b  ", "c"}), "a b c");
  const nlohmann::json fused = {
      {"type", "Sequence"},
      {"decoders",
       {{{"type", "Fuse"}}, {{"type", "Strip"}, {"content", " "}, {"start", 2}, {"stop", 1}}}}};
  EXPECT_EQ(decode_tokens(fused, {" ", " a", " "}), "a");
  EXPECT_EQ(decode_tokens(fused, {"", " ", "x"}), "x");
  EXPECT_EQ(decode_tokens(fused, {"x", " ", " ", "y", " "}), "x  y");
}

TEST(Decoder, ReplaceAcrossTokensOnlyAfterFuse) {
  const nlohmann::json per_token = {
      {"type", "Replace"}, {"pattern", {{"String", "ab"}}}, {"content", "X"}};
  EXPECT_EQ(decode_tokens(per_token, {"a", "b", "ab"}), "abX");
  const nlohmann::json fused = {{"type", "Sequence"},
                                {"decoders", {{{"type", "Fuse"}}, per_token}}};
  EXPECT_EQ(decode_tokens(fused, {"a", "b", "ab"}), "XX");
  EXPECT_EQ(decode_tokens(fused, {"a", "a", "b", "a"}), "aXa");
}

TEST(Decoder, ByteFallbackRuns) {
  const nlohmann::json chain = {{"type", "Sequence"},
                                {"decoders", {{{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}};
  EXPECT_EQ(decode_tokens(chain, {"<0xE3>", "<0x81>", "<0x82>", "x"}), "\xE3\x81\x82x");
  EXPECT_EQ(decode_tokens(chain, {"<0xE3>", "<0x81>", "<0x82>", "<0xE3>", "x"}),
            kFffd + kFffd + kFffd + kFffd + "x");
  EXPECT_EQ(decode_tokens(chain, {"x", "<0xe3>", "<0x81>"}), "x" + kFffd + kFffd);
  EXPECT_EQ(decode_tokens(chain, {"<0x4G>"}), "<0x4G>");
}

TEST(Decoder, NoDecoderJoinsWithSpaces) {
  EXPECT_EQ(decode_tokens(nullptr, {"▁Hello", "▁world", "<s>"}), "▁Hello ▁world <s>");
}

}  // namespace
}  // namespace bit_ttt::tokenizer
