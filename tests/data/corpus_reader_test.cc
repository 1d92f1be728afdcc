#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/corpus_files.h"
#include "data/document_reader.h"
#include "data/document_text.h"
#include "test_util.h"

namespace bit_ttt::testing {
namespace {

using data::CorpusFile;
using data::CorpusFormat;
using data::DocumentReader;
using data::RawDocument;

std::vector<RawDocument> read_all(const std::filesystem::path& path, CorpusFormat format,
                                  const std::string& separator = "<|endoftext|>",
                                  size_t block_bytes = 3) {
  DocumentReader reader({path, format, std::filesystem::file_size(path)}, 0, separator,
                        block_bytes);
  std::vector<RawDocument> documents;
  RawDocument document;
  while (reader.next(document)) documents.push_back(document);
  EXPECT_EQ(reader.bytes_consumed(), std::filesystem::file_size(path));
  return documents;
}

std::vector<std::string> texts(const std::vector<RawDocument>& documents) {
  std::vector<std::string> out;
  for (const auto& document : documents) out.push_back(document.bytes);
  return out;
}

TEST(DocumentReader, SplitsTextAtSeparatorLines) {
  TempDir dir;
  // Tiny blocks: lines and documents straddle every read.
  write_file_bytes(dir / "a.txt",
                   "<|endoftext|>\nfirst line\nsecond\n<|endoftext|>\n"
                   "not <|endoftext|> a separator\n\n<|endoftext|>\r\n\n<|endoftext|>\nlast");
  const auto documents = read_all(dir / "a.txt", CorpusFormat::text);
  ASSERT_EQ(
      texts(documents),
      (std::vector<std::string>{"first line\nsecond", "not <|endoftext|> a separator\n", "last"}));
  EXPECT_EQ(documents[0].line, 2);
  EXPECT_EQ(documents[0].byte_offset, 14u);
  EXPECT_EQ(documents[1].line, 5);
  EXPECT_EQ(documents[1].byte_offset, 46u);
  EXPECT_EQ(documents[2].line, 10);
}

TEST(DocumentReader, FileWithoutSeparatorIsOneDocument) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "para one\n\npara two\r\n");
  EXPECT_EQ(texts(read_all(dir / "a.txt", CorpusFormat::text, "<|endoftext|>", 4 << 20)),
            std::vector<std::string>{"para one\n\npara two"});
}

TEST(DocumentReader, EmptySeparatorSplitsAtBlankLines) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "para one\nstill one\n\npara two\n\n\n");
  EXPECT_EQ(texts(read_all(dir / "a.txt", CorpusFormat::text, "")),
            (std::vector<std::string>{"para one\nstill one", "para two"}));
}

TEST(DocumentReader, SkipsAByteOrderMark) {
  TempDir dir;
  write_file_bytes(dir / "a.txt", "\xEF\xBB\xBFhello\n");
  const auto documents = read_all(dir / "a.txt", CorpusFormat::text, "<|endoftext|>", 64);
  ASSERT_EQ(texts(documents), std::vector<std::string>{"hello"});
  EXPECT_EQ(documents[0].byte_offset, 3u);
}

TEST(DocumentReader, JsonlLines) {
  TempDir dir;
  write_file_bytes(dir / "a.jsonl",
                   "{\"text\": \"a\"}\n\n  \n{\"text\": \"b\"}\r\n{\"text\": \"c\"}");
  const auto documents = read_all(dir / "a.jsonl", CorpusFormat::jsonl);
  ASSERT_EQ(texts(documents), (std::vector<std::string>{"{\"text\": \"a\"}", "{\"text\": \"b\"}",
                                                        "{\"text\": \"c\"}"}));
  EXPECT_EQ(documents[1].line, 4);
  EXPECT_EQ(documents[1].byte_offset, 18u);
  EXPECT_EQ(documents[2].line, 5);
}

TEST(DocumentText, JsonlFieldAndErrors) {
  const CorpusFile file{"c.jsonl", CorpusFormat::jsonl, 0};
  auto text_of = [&](const std::string& line, const std::string& field = "text") {
    RawDocument document{line, 100, 7, 0};
    return data::document_text(document, file, field);
  };
  EXPECT_EQ(text_of("{\"text\": \"caf\\u00e9\\n\", \"n\": 1}").text, "caf\xC3\xA9\n");
  EXPECT_EQ(text_of("{\"body\": \"x\"}", "body").text, "x");
  EXPECT_EQ(text_of("{\"text\": \" \\n\"}").status, data::DocumentStatus::empty);
  expect_error([&] { text_of("{\"text\": \"a\""); }, {"c.jsonl:7", "invalid JSON"});
  expect_error([&] { text_of("[1, 2]"); }, {"c.jsonl:7", "expected a JSON object", "array"});
  expect_error([&] { text_of("{\"txt\": \"a\"}"); }, {"c.jsonl:7", "no field \"text\""});
  expect_error([&] { text_of("{\"text\": 5}"); }, {"c.jsonl:7", "\"text\" is number"});
  expect_error([&] { text_of("{\"text\": null}"); }, {"\"text\" is null"});
  const auto bad = text_of("{\"text\": \"a\xFF\"}");
  EXPECT_EQ(bad.status, data::DocumentStatus::invalid_utf8);
  EXPECT_NE(bad.error.find("c.jsonl:7: invalid UTF-8 at byte offset 111 (byte 0xff)"),
            std::string::npos)
      << bad.error;
}

TEST(DocumentText, TextUtf8ErrorNamesLineAndFileOffset) {
  const CorpusFile file{"d.txt", CorpusFormat::text, 0};
  RawDocument document{"line\nline\nba\xC3(", 1000, 20, 0};
  const auto result = data::document_text(document, file, "text");
  EXPECT_EQ(result.status, data::DocumentStatus::invalid_utf8);
  EXPECT_EQ(result.error, "d.txt:22: invalid UTF-8 at byte offset 1012 (byte 0xc3)");
}

TEST(CorpusFiles, WalksDirectoriesSortedAndFiltersExtensions) {
  TempDir dir;
  std::filesystem::create_directories(dir / "corpus/b/deeper");
  std::filesystem::create_directories(dir / "corpus/.git");
  for (const char* name :
       {"corpus/z.txt", "corpus/a.md", "corpus/b/x.jsonl", "corpus/b/deeper/y.txt",
        "corpus/skip.bin", "corpus/.hidden.txt", "corpus/.git/c.txt", "other.dat"})
    write_file_bytes(dir / name, "x");
  const auto files =
      data::list_corpus_files({dir / "corpus", dir / "other.dat", dir / "corpus/z.txt"});
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(std::filesystem::relative(file.path, dir.path()));
  EXPECT_EQ(names, (std::vector<std::string>{"corpus/a.md", "corpus/b/deeper/y.txt",
                                             "corpus/b/x.jsonl", "corpus/z.txt", "other.dat"}));
  EXPECT_EQ(files[2].format, CorpusFormat::jsonl);
  EXPECT_EQ(files[4].format, CorpusFormat::text);
  EXPECT_EQ(files[0].n_bytes, 1u);
  expect_error([&] { data::list_corpus_files({dir / "missing"}); }, {"missing", "input not found"});
}

}  // namespace
}  // namespace bit_ttt::testing
