#include "data/prepare.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/split.h"
#include "data/token_file.h"
#include "data/token_file_check.h"
#include "data_test_util.h"
#include "test_util.h"

namespace bit_ttt::testing {
namespace {

using data::PrepareOptions;
using data::PrepareStats;
using data::TokenFile;

PrepareOptions options_for(const TempDir& dir, std::vector<std::filesystem::path> inputs) {
  PrepareOptions options;
  options.inputs = std::move(inputs);
  options.out_dir = dir / "out";
  options.val_fraction = 0;
  options.min_tokens = 1;
  options.n_threads = 2;
  options.progress = ProgressBar::Style::none;
  return options;
}

PrepareStats run(const PrepareOptions& options) {
  return data::prepare_corpus(options, byte_tokenizer());
}

std::vector<int32_t> train_tokens(const TempDir& dir) {
  return all_tokens(TokenFile::open(dir / "out/train.bin"));
}

TEST(Prepare, TextWithSeparators) {
  TempDir dir;
  write_file_bytes(dir / "a.txt",
                   "Once upon a time.\nThe end.\n<|endoftext|>\nSecond story \xE2\x9C\x93\n"
                   "<|endoftext|>\n\n<|endoftext|>\n");
  const PrepareStats stats = run(options_for(dir, {dir / "a.txt"}));
  const std::vector<std::string> documents = {"Once upon a time.\nThe end.",
                                              "Second story \xE2\x9C\x93"};
  EXPECT_EQ(train_tokens(dir), encode_documents(byte_tokenizer(), documents));
  EXPECT_EQ(stats.n_train_documents, 2);
  EXPECT_EQ(stats.n_val_documents, 0);
  EXPECT_EQ(stats.n_files, 1);
  EXPECT_EQ(stats.n_bytes, std::filesystem::file_size(dir / "a.txt"));
  EXPECT_EQ(stats.n_train_tokens, static_cast<int64_t>(train_tokens(dir).size()));
  const TokenFile train = TokenFile::open(dir / "out/train.bin");
  EXPECT_EQ(train.eos_id(), 256);
  data::check_token_file_matches(train, byte_tokenizer());
  EXPECT_EQ(TokenFile::open(dir / "out/val.bin").n_tokens(), 0);
  const std::string summary = data::format_prepare_summary(stats);
  EXPECT_NE(summary.find("prepared 2 documents (2 train, 0 val) from 1 file(s)"), std::string::npos)
      << summary;
}

TEST(Prepare, Jsonl) {
  TempDir dir;
  write_file_bytes(
      dir / "a.jsonl",
      "{\"content\": \"first \\\"doc\\\"\", \"id\": 1}\n\n{\"content\": \"line\\nbreak\"}\n"
      "{\"content\": \"\"}\n");
  PrepareOptions options = options_for(dir, {dir / "a.jsonl"});
  options.jsonl_field = "content";
  const PrepareStats stats = run(options);
  EXPECT_EQ(train_tokens(dir),
            encode_documents(byte_tokenizer(), {"first \"doc\"", "line\nbreak"}));
  EXPECT_EQ(stats.n_empty_documents, 1);
}

TEST(Prepare, NestedDirectoriesInSortedOrder) {
  TempDir dir;
  std::filesystem::create_directories(dir / "corpus/sub/deeper");
  write_file_bytes(dir / "corpus/b.txt", "doc b1\n<|endoftext|>\ndoc b2\n");
  write_file_bytes(dir / "corpus/a.md", "# doc a\n");
  write_file_bytes(dir / "corpus/sub/c.jsonl", "{\"text\": \"doc c1\"}\n{\"text\": \"doc c2\"}\n");
  write_file_bytes(dir / "corpus/sub/deeper/d.txt", "doc d");
  write_file_bytes(dir / "corpus/sub/notes.bin", "\xFF not text");
  write_file_bytes(dir / "extra.txt", "doc extra");
  const PrepareStats stats = run(options_for(dir, {dir / "corpus", dir / "extra.txt"}));
  EXPECT_EQ(stats.n_files, 5);
  EXPECT_EQ(train_tokens(dir),
            encode_documents(byte_tokenizer(), {"# doc a", "doc b1", "doc b2", "doc c1", "doc c2",
                                                "doc d", "doc extra"}));
}

// A corpus of n documents, some duplicated; returns the documents in order.
std::vector<std::string> write_story_corpus(const TempDir& dir, int n) {
  std::vector<std::string> documents;
  std::string txt, jsonl;
  for (int i = 0; i < n; ++i) {
    std::string document = "Story " + std::to_string(i % 150) + ": " +
                           std::string(static_cast<size_t>(i % 37), 'x') + "\nend.";
    documents.push_back(document);
    if (i < n / 2) {
      txt += document + "\n<|endoftext|>\n";
    } else {
      jsonl += nlohmann::json{{"text", document}}.dump() + "\n";
    }
  }
  write_file_bytes(dir / "c/1.txt", txt);
  write_file_bytes(dir / "c/2.jsonl", jsonl);
  return documents;
}

TEST(Prepare, SplitIsByDocumentHashAndIndependentOfThreadsAndChunking) {
  TempDir dir;
  std::filesystem::create_directories(dir / "c");
  const std::vector<std::string> documents = write_story_corpus(dir, 400);
  std::vector<std::string> train_docs, val_docs;
  for (const auto& document : documents)
    (data::is_validation_document(document, 0.25) ? val_docs : train_docs).push_back(document);
  ASSERT_GT(val_docs.size(), 50u);
  ASSERT_LT(val_docs.size(), 150u);

  std::string reference_train, reference_val;
  for (int n_threads : {1, 2, 3}) {
    for (size_t chunk_bytes : {size_t{4} << 20, size_t{100}, size_t{1}}) {
      SCOPED_TRACE(::testing::Message() << n_threads << " threads, chunk " << chunk_bytes);
      PrepareOptions options = options_for(dir, {dir / "c"});
      options.val_fraction = 0.25;
      options.n_threads = n_threads;
      options.chunk_bytes = chunk_bytes;
      const PrepareStats stats = run(options);
      EXPECT_EQ(stats.n_train_documents, static_cast<int64_t>(train_docs.size()));
      EXPECT_EQ(stats.n_val_documents, static_cast<int64_t>(val_docs.size()));
      EXPECT_EQ(train_tokens(dir), encode_documents(byte_tokenizer(), train_docs));
      EXPECT_EQ(all_tokens(TokenFile::open(dir / "out/val.bin")),
                encode_documents(byte_tokenizer(), val_docs));
      const std::string train = read_file_bytes(dir / "out/train.bin");
      const std::string val = read_file_bytes(dir / "out/val.bin");
      if (reference_train.empty()) {
        reference_train = train;
        reference_val = val;
      }
      EXPECT_EQ(train, reference_train);
      EXPECT_EQ(val, reference_val);
    }
  }
}

TEST(Prepare, DuplicatesLandInTheSameSplit) {
  const std::string text = "the same story";
  for (double fraction : {0.1, 0.5, 0.9})
    EXPECT_EQ(data::is_validation_document(text, fraction),
              data::is_validation_document(std::string(text), fraction));
  EXPECT_FALSE(data::is_validation_document(text, 0.0));
  EXPECT_NE(data::document_hash("a"), data::document_hash("b"));
}

TEST(Prepare, InvalidUtf8NamesFileAndByteOffset) {
  TempDir dir;
  write_file_bytes(dir / "a.txt",
                   "good\n<|endoftext|>\nba\xFF"
                   "d\n<|endoftext|>\nalso good\n");
  expect_error([&] { run(options_for(dir, {dir / "a.txt"})); },
               {"a.txt:3: invalid UTF-8 at byte offset 21 (byte 0xff)", "--skip-invalid"});
  EXPECT_FALSE(std::filesystem::exists(dir / "out/train.bin"));
}

TEST(Prepare, SkipInvalidSkipsAndCounts) {
  TempDir dir;
  write_file_bytes(dir / "a.txt",
                   "good\n<|endoftext|>\nba\xFF"
                   "d\n<|endoftext|>\nalso good\n");
  write_file_bytes(dir / "b.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"\xC0\xAF\"}\n");
  PrepareOptions options = options_for(dir, {dir / "a.txt", dir / "b.jsonl"});
  options.skip_invalid = true;
  const PrepareStats stats = run(options);
  EXPECT_EQ(stats.n_skipped_invalid, 2);
  EXPECT_NE(stats.first_skipped.find("a.txt:3: invalid UTF-8 at byte offset 21"),
            std::string::npos);
  EXPECT_EQ(train_tokens(dir), encode_documents(byte_tokenizer(), {"good", "also good", "ok"}));
  EXPECT_NE(data::format_prepare_summary(stats).find("skipped: 2 invalid UTF-8"),
            std::string::npos);
}

TEST(Prepare, BadJsonlNamesFileAndLine) {
  TempDir dir;
  write_file_bytes(dir / "bad.jsonl", "{\"text\": \"a\"}\n\n{\"text\": \"b\"\n");
  expect_error([&] { run(options_for(dir, {dir / "bad.jsonl"})); },
               {"bad.jsonl:3", "invalid JSON"});
  write_file_bytes(dir / "missing.jsonl", "{\"text\": \"a\"}\n{\"body\": \"b\"}\n");
  expect_error([&] { run(options_for(dir, {dir / "missing.jsonl"})); },
               {"missing.jsonl:2", "no field \"text\""});
  write_file_bytes(dir / "number.jsonl", "{\"text\": 3}\n");
  expect_error([&] { run(options_for(dir, {dir / "number.jsonl"})); },
               {"number.jsonl:1", "\"text\" is number, expected a string"});
  // --skip-invalid is for bad text, not for malformed files.
  PrepareOptions options = options_for(dir, {dir / "bad.jsonl"});
  options.skip_invalid = true;
  expect_error([&] { run(options); }, {"bad.jsonl:3"});
}

TEST(Prepare, EmptyCorpus) {
  TempDir dir;
  write_file_bytes(dir / "empty.txt", "");
  write_file_bytes(dir / "blank.txt", "\n<|endoftext|>\n  \n<|endoftext|>\n");
  expect_error(
      [&] {
        run(options_for(dir, {dir / "empty.txt", dir / "blank.txt"}));
      },
      {"corpus is empty", "2 file(s)"});
  std::filesystem::create_directories(dir / "nothing");
  write_file_bytes(dir / "nothing/data.csv", "a,b");
  expect_error([&] { run(options_for(dir, {dir / "nothing"})); }, {"no .txt, .md or .jsonl files"});
  expect_error([&] { run(options_for(dir, {dir / "absent.txt"})); },
               {"absent.txt", "input not found"});
  EXPECT_FALSE(std::filesystem::exists(dir / "out/train.bin"));
}

TEST(Prepare, TrainSplitShorterThanOneContext) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", std::string(100, 'a'));
  PrepareOptions options = options_for(dir, {dir / "a.txt"});
  options.min_tokens = 129;
  expect_error([&] { run(options); },
               {"train split has only 101 tokens", "fewer than --min-tokens 129"});
  EXPECT_FALSE(std::filesystem::exists(dir / "out/train.bin"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out/val.bin"));
  write_file_bytes(dir / "a.txt", std::string(128, 'a'));
  EXPECT_EQ(run(options).n_train_tokens, 129);
}

TEST(Prepare, OutputDirectoryProblems) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "text");
  write_file_bytes(dir / "file", "");
  PrepareOptions options = options_for(dir, {dir / "a.txt"});
  options.out_dir = dir / "file";
  expect_error([&] { run(options); }, {"output path", "file", "not a directory"});
  options.out_dir = dir / "file" / "sub";
  expect_error([&] { run(options); }, {"cannot create output directory", "file/sub"});
  if (::geteuid() != 0) {  // root writes anywhere
    std::filesystem::create_directories(dir / "readonly");
    ::chmod((dir / "readonly").c_str(), 0500);
    options.out_dir = dir / "readonly";
    expect_error([&] { run(options); }, {"cannot write to output directory", "readonly"});
    ::chmod((dir / "readonly").c_str(), 0700);
  }
  options.out_dir = dir / "new" / "nested";  // created
  run(options);
  EXPECT_TRUE(std::filesystem::exists(dir / "new/nested/train.bin"));
}

TEST(Prepare, RerunReplacesOutputs) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "first version");
  run(options_for(dir, {dir / "a.txt"}));
  write_file_bytes(dir / "a.txt", "v2");
  run(options_for(dir, {dir / "a.txt"}));
  EXPECT_EQ(train_tokens(dir), encode_documents(byte_tokenizer(), {"v2"}));
  size_t n_entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir / "out"))
    ++n_entries;
  EXPECT_EQ(n_entries, 2u) << "temp files left behind";
}

TEST(Prepare, TokenizerWithoutEos) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "one\n<|endoftext|>\ntwo\n");
  const Tokenizer no_eos = Tokenizer::from_json_text(byte_level_tokenizer_json({}), "no-eos");
  ASSERT_FALSE(no_eos.eos_id());
  PrepareOptions options = options_for(dir, {dir / "a.txt"});
  expect_error([&] { data::prepare_corpus(options, no_eos); },
               {"no-eos", "has no end-of-text token", "--no-eos"});
  options.no_eos = true;
  data::prepare_corpus(options, no_eos);
  const TokenFile train = TokenFile::open(dir / "out/train.bin");
  EXPECT_EQ(train.eos_id(), std::nullopt);
  std::vector<int32_t> expected = no_eos.encode("one");
  const auto two = no_eos.encode("two");
  expected.insert(expected.end(), two.begin(), two.end());
  EXPECT_EQ(all_tokens(train), expected);
}

TEST(Prepare, CustomSeparatorAndCrlf) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "one\r\n---\r\ntwo\r\nlines\r\n---\r\n");
  PrepareOptions options = options_for(dir, {dir / "a.txt"});
  options.separator = "---";
  run(options);
  EXPECT_EQ(train_tokens(dir), encode_documents(byte_tokenizer(), {"one", "two\r\nlines"}));
}

TEST(Prepare, RejectsBadOptions) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "x");
  PrepareOptions options = options_for(dir, {dir / "a.txt"});
  options.val_fraction = 1.0;
  expect_error([&] { run(options); }, {"--val-fraction must be in [0, 1)"});
  options = options_for(dir, {});
  expect_error([&] { run(options); }, {"no inputs"});
  options = options_for(dir, {dir / "a.txt"});
  options.separator = "a\nb";
  expect_error([&] { run(options); }, {"--separator"});
  options = options_for(dir, {dir / "a.txt"});
  options.tokenizer_path = dir / "missing.json";
  expect_error([&] { data::prepare_corpus(options); }, {"missing.json"});
}

TEST(Prepare, LoadsTokenizerFromPathOrDirectory) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "hello");
  std::filesystem::create_directories(dir / "tok");
  write_file_bytes(dir / "tok/tokenizer.json", byte_level_tokenizer_json({"<|endoftext|>"}));
  PrepareOptions options = options_for(dir, {dir / "a.txt"});
  options.tokenizer_path = dir / "tok";
  data::prepare_corpus(options);
  EXPECT_EQ(train_tokens(dir), encode_documents(byte_tokenizer(), {"hello"}));
}

}  // namespace
}  // namespace bit_ttt::testing
