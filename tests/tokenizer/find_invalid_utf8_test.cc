#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace bit_ttt::testing {
namespace {

using tokenizer::find_invalid_utf8;
constexpr size_t kValidUtf8 = std::string_view::npos;

TEST(Utf8Check, AcceptsValidText) {
  EXPECT_EQ(find_invalid_utf8(""), kValidUtf8);
  EXPECT_EQ(find_invalid_utf8("plain ASCII text that is longer than eight bytes"), kValidUtf8);
  EXPECT_EQ(find_invalid_utf8("caf\xC3\xA9 \xE5\x90\xBE\xE8\xBC\xA9 \xF0\x9F\x98\x80"), kValidUtf8);
  EXPECT_EQ(find_invalid_utf8("\xEF\xBF\xBF\xF4\x8F\xBF\xBF\xED\x9F\xBF"), kValidUtf8);
}

TEST(Utf8Check, FindsTheFirstBadByte) {
  EXPECT_EQ(find_invalid_utf8("ab\xFF"), 2u);
  EXPECT_EQ(find_invalid_utf8("\x80"), 0u);              // stray continuation
  EXPECT_EQ(find_invalid_utf8("x\xC0\x80"), 1u);         // overlong NUL
  EXPECT_EQ(find_invalid_utf8("\xE0\x80\x80"), 0u);      // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("\xF0\x80\x80\x80"), 0u);  // overlong 4-byte
  EXPECT_EQ(find_invalid_utf8("ok\xED\xA0\x80"), 2u);    // surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(find_invalid_utf8("abc\xE5\x90"), 3u);  // truncated at the end
  EXPECT_EQ(find_invalid_utf8("\xC3(x"), 0u);       // bad continuation
  EXPECT_EQ(find_invalid_utf8("\xE5\x90\x41"), 0u);
  // Past the 8-byte ASCII fast path.
  EXPECT_EQ(find_invalid_utf8(std::string(37, 'a') + "\xFE" + std::string(20, 'b')), 37u);
}

}  // namespace
}  // namespace bit_ttt::testing
