#include "data/token_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <numeric>

#include "data/token_file_check.h"
#include "data_test_util.h"
#include "test_util.h"

namespace bit_ttt::testing {
namespace {

using data::TokenFile;
using data::TokenFileWriter;

std::vector<int32_t> iota_tokens(size_t n, int32_t modulo) {
  std::vector<int32_t> tokens(n);
  for (size_t i = 0; i < n; ++i) tokens[i] = static_cast<int32_t>((i * 7919) % modulo);
  return tokens;
}

TEST(TokenFile, RoundTripU16) {
  TempDir dir;
  const auto tokens = iota_tokens(3 << 20, 257);  // several writer buffers
  const TokenFile file = write_token_file(dir / "a.bin", tokens, 257, 256);
  EXPECT_EQ(file.token_width(), 2u);
  EXPECT_EQ(file.vocab_size(), 257u);
  EXPECT_EQ(file.eos_id(), 256);
  EXPECT_EQ(file.fingerprint(), "0123456789abcdef");
  ASSERT_EQ(file.n_tokens(), static_cast<int64_t>(tokens.size()));
  EXPECT_EQ(std::filesystem::file_size(dir / "a.bin"), 64 + 2 * tokens.size());
  EXPECT_EQ(all_tokens(file), tokens);
  EXPECT_EQ(file.token(12345), static_cast<uint32_t>(tokens[12345]));
  EXPECT_EQ(file.read(100, 3), std::vector<int32_t>(tokens.begin() + 100, tokens.begin() + 103));
  file.check_all_tokens();
}

TEST(TokenFile, RoundTripU32) {
  TempDir dir;
  std::vector<int32_t> tokens = iota_tokens(100000, 128256);
  tokens.push_back(128255);
  tokens.push_back(65536);
  const TokenFile file = write_token_file(dir / "a.bin", tokens, 128256);
  EXPECT_EQ(file.token_width(), 4u);
  EXPECT_EQ(file.eos_id(), std::nullopt);
  EXPECT_EQ(file.header().eos_id, data::kNoEosId);
  EXPECT_EQ(std::filesystem::file_size(dir / "a.bin"), 64 + 4 * tokens.size());
  EXPECT_EQ(all_tokens(file), tokens);
  EXPECT_EQ(file.token(static_cast<int64_t>(tokens.size()) - 1), 65536u);
}

TEST(TokenFile, WidthBoundary) {
  EXPECT_EQ(data::token_width_for_vocab(65536), 2u);
  EXPECT_EQ(data::token_width_for_vocab(65537), 4u);
  TempDir dir;
  const TokenFile file = write_token_file(dir / "a.bin", {65535, 0}, 65536);
  EXPECT_EQ(file.token_width(), 2u);
  EXPECT_EQ(all_tokens(file), (std::vector<int32_t>{65535, 0}));
}

TEST(TokenFile, EmptyFile) {
  TempDir dir;
  const TokenFile file = write_token_file(dir / "a.bin", {}, 300);
  EXPECT_EQ(file.n_tokens(), 0);
  EXPECT_EQ(std::filesystem::file_size(dir / "a.bin"), 64u);
  EXPECT_TRUE(file.read(0, 0).empty());
}

TEST(TokenFile, HeaderLayoutIsLittleEndianAtDocumentedOffsets) {
  TempDir dir;
  write_token_file(dir / "a.bin", {1, 2, 3}, 1000, 7, "fedcba9876543210");
  const std::string bytes = read_file_bytes(dir / "a.bin");
  ASSERT_EQ(bytes.size(), 64u + 6);
  auto u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  EXPECT_EQ(bytes.substr(0, 4), "BTTK");
  EXPECT_EQ(u32(4), 1u);
  EXPECT_EQ(u32(8), 2u);
  EXPECT_EQ(u32(12), 1000u);
  EXPECT_EQ(u32(16), 7u);
  EXPECT_EQ(bytes.substr(20, 16), "fedcba9876543210");
  uint64_t count;
  std::memcpy(&count, bytes.data() + 40, 8);
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(bytes.substr(36, 4), std::string(4, '\0'));
  EXPECT_EQ(bytes.substr(48, 16), std::string(16, '\0'));
  EXPECT_EQ(bytes.substr(64), std::string("\x01\x00\x02\x00\x03\x00", 6));
}

TEST(TokenFileWriter, NothingVisibleUntilCommit) {
  TempDir dir;
  {
    TokenFileWriter writer(dir / "a.bin", 257, 256, "0123456789abcdef");
    writer.append(std::vector<int32_t>{1, 2, 3});
    EXPECT_FALSE(std::filesystem::exists(dir / "a.bin"));
  }  // destroyed uncommitted
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "temp file left behind";
}

TEST(TokenFileWriter, CommitReplacesAnExistingFile) {
  TempDir dir;
  write_token_file(dir / "a.bin", {1, 2, 3, 4}, 257);
  const TokenFile old_file = TokenFile::open(dir / "a.bin");  // still mapped: unaffected
  write_token_file(dir / "a.bin", {9}, 257);
  EXPECT_EQ(all_tokens(TokenFile::open(dir / "a.bin")), std::vector<int32_t>{9});
  EXPECT_EQ(all_tokens(old_file), (std::vector<int32_t>{1, 2, 3, 4}));
}

TEST(TokenFileWriter, RejectsBadArguments) {
  TempDir dir;
  TokenFileWriter writer(dir / "a.bin", 257, 256, "0123456789abcdef");
  expect_error(
      [&] {
        writer.append(std::vector<int32_t>{1, 257});
      },
      {"a.bin", "cannot write token 257", "[0, 257)"});
  expect_error([&] { writer.append(-1); }, {"token -1"});
  EXPECT_EQ(writer.n_tokens(), 0);
  expect_error([&] { TokenFileWriter bad(dir / "b.bin", 257, 257, "0123456789abcdef"); },
               {"eos id 257", "vocab size 257"});
  expect_error([&] { TokenFileWriter bad(dir / "b.bin", 257, 256, "0123456789ABCDEF"); },
               {"fingerprint", "0123456789ABCDEF"});
  expect_error([&] { TokenFileWriter bad(dir / "b.bin", 0, std::nullopt, "0123456789abcdef"); },
               {"vocab size must be positive"});
  expect_error(
      [&] { TokenFileWriter bad(dir / "missing" / "b.bin", 257, 256, "0123456789abcdef"); },
      {"b.bin", "cannot create temp file"});
}

// Corruptions of a valid file, each with the words its error must contain.
struct Corruption {
  const char* name;
  std::function<void(std::string&)> corrupt;
  std::vector<std::string> fragments;
};

class TokenFileCorruption : public ::testing::TestWithParam<Corruption> {};

void put_u32(std::string& bytes, size_t at, uint32_t value) {
  std::memcpy(bytes.data() + at, &value, 4);
}
void put_u64(std::string& bytes, size_t at, uint64_t value) {
  std::memcpy(bytes.data() + at, &value, 8);
}

TEST_P(TokenFileCorruption, IsRejectedWithAClearMessage) {
  TempDir dir;
  write_token_file(dir / "good.bin", {1, 2, 3, 4, 5}, 257, 256);
  std::string bytes = read_file_bytes(dir / "good.bin");
  GetParam().corrupt(bytes);
  write_file_bytes(dir / "bad.bin", bytes);
  try {
    const TokenFile file = TokenFile::open(dir / "bad.bin");
    file.check_all_tokens();
    ADD_FAILURE() << "corruption '" << GetParam().name << "' was accepted";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("bad.bin"), std::string::npos) << message;
    for (const auto& fragment : GetParam().fragments)
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message '" << message << "' lacks '" << fragment << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TokenFileCorruption,
    ::testing::Values(
        Corruption{"empty", [](std::string& b) { b.clear(); }, {"truncated", "0 bytes"}},
        Corruption{"short_header", [](std::string& b) { b.resize(40); }, {"truncated", "40 bytes"}},
        Corruption{"magic", [](std::string& b) { b[0] = 'X'; }, {"bad magic 'XTTK'", "BTTK"}},
        Corruption{"magic_binary", [](std::string& b) { b[3] = '\x01'; }, {"'BTT\\x01'"}},
        Corruption{"version",
                   [](std::string& b) { put_u32(b, 4, 2); },
                   {"unsupported token file version 2", "byte 4"}},
        Corruption{
            "width_3", [](std::string& b) { put_u32(b, 8, 3); }, {"bad token width 3", "byte 8"}},
        Corruption{"width_4_for_small_vocab",
                   [](std::string& b) { put_u32(b, 8, 4); },
                   {"bad token width 4", "needs 2"}},
        Corruption{"vocab_zero",
                   [](std::string& b) { put_u32(b, 12, 0); },
                   {"bad vocab size 0", "byte 12"}},
        Corruption{"eos_past_vocab",
                   [](std::string& b) { put_u32(b, 16, 300); },
                   {"eos id 300", "byte 16"}},
        Corruption{"fingerprint", [](std::string& b) { b[25] = 'Z'; }, {"fingerprint", "byte 20"}},
        Corruption{"padding", [](std::string& b) { b[50] = 1; }, {"padding byte 50"}},
        Corruption{"truncated_tokens",
                   [](std::string& b) { b.resize(b.size() - 2); },
                   {"header says 5 tokens", "truncated", "expected file size 74", "actual 72"}},
        Corruption{"odd_size", [](std::string& b) { b.resize(b.size() - 1); }, {"truncated"}},
        Corruption{"trailing_bytes", [](std::string& b) { b += "xx"; }, {"trailing bytes"}},
        Corruption{"huge_count",
                   [](std::string& b) { put_u64(b, 40, ~0ull); },
                   {"truncated", "too large"}},
        Corruption{"token_past_vocab",
                   [](std::string& b) {
                     b[64 + 2 * 3] = '\x2c';  // token 3 := 300
                     b[64 + 2 * 3 + 1] = '\x01';
                   },
                   {"token 300 at position 3", "byte offset 70", "vocab size 257"}}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(TokenFile, OutOfRangeTokenIsReportedLazilyByEveryReader) {
  TempDir dir;
  write_token_file(dir / "a.bin", {1, 2, 3, 4}, 257);
  std::string bytes = read_file_bytes(dir / "a.bin");
  bytes[64 + 2 * 2] = '\xff';
  bytes[64 + 2 * 2 + 1] = '\xff';
  write_file_bytes(dir / "a.bin", bytes);
  const TokenFile file = TokenFile::open(dir / "a.bin");  // header is fine
  EXPECT_EQ(file.read(0, 2), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(file.token(3), 4u);
  expect_error([&] { file.token(2); }, {"a.bin", "token 65535 at position 2", "byte offset 68"});
  expect_error([&] { file.read(1, 3); }, {"token 65535 at position 2"});
}

TEST(TokenFile, RangeErrors) {
  TempDir dir;
  const TokenFile file = write_token_file(dir / "a.bin", {1, 2, 3}, 257);
  expect_error([&] { file.token(3); }, {"a.bin", "index 3 out of range [0, 3)"});
  expect_error([&] { file.token(-1); }, {"index -1"});
  expect_error([&] { file.read(2, 2); }, {"cannot read 2 tokens at 2", "3 tokens"});
  expect_error([&] { file.read(-1, 1); }, {"cannot read 1 tokens at -1"});
  expect_error([] { TokenFile::open("/nonexistent/x.bin"); },
               {"/nonexistent/x.bin", "cannot open"});
}

TEST(TokenFileCheck, MatchingTokenizerPasses) {
  TempDir dir;
  const Tokenizer& tokenizer = byte_tokenizer();
  const TokenFile file = write_token_file(dir / "a.bin", {1, 2}, 257, 256, tokenizer.fingerprint());
  data::check_token_file_matches(file, tokenizer);
  data::check_token_file_matches(file, 257, tokenizer.fingerprint());
  data::check_token_file_matches(file, 512, tokenizer.fingerprint());  // padded model vocab
  data::check_token_file_matches(file, 257, "");                       // model without one
}

TEST(TokenFileCheck, FingerprintMismatchNamesBoth) {
  TempDir dir;
  const Tokenizer& tokenizer = byte_tokenizer();
  ASSERT_EQ(tokenizer.fingerprint().size(), 16u);
  const TokenFile file = write_token_file(dir / "a.bin", {1, 2}, 257, 256, "00000000deadbeef");
  expect_error([&] { data::check_token_file_matches(file, tokenizer); },
               {"a.bin", "different tokenizer", "00000000deadbeef", tokenizer.fingerprint()});
  expect_error([&] { data::check_token_file_matches(file, 257, tokenizer.fingerprint()); },
               {"a.bin", "00000000deadbeef", tokenizer.fingerprint()});
}

TEST(TokenFileCheck, VocabMismatchNamesBothSizes) {
  TempDir dir;
  const Tokenizer& tokenizer = byte_tokenizer();
  const TokenFile file = write_token_file(dir / "a.bin", {1}, 300, 256, tokenizer.fingerprint());
  expect_error([&] { data::check_token_file_matches(file, tokenizer); },
               {"vocab size 300", "vocab size 257"});
  expect_error([&] { data::check_token_file_matches(file, 257, tokenizer.fingerprint()); },
               {"vocab size 300", "model's vocab size 257"});
}

}  // namespace
}  // namespace bit_ttt::testing
