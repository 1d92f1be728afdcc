// Which files a `prepare` run reads, in which order and as which format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace bit_ttt::data {

enum class CorpusFormat {
  text,   // documents separated by a separator line
  jsonl,  // one JSON object per line, the document in one string field
};

struct CorpusFile {
  std::filesystem::path path;
  CorpusFormat format = CorpusFormat::text;
  uint64_t n_bytes = 0;
};

// Expands the inputs in the order given. A file is taken whatever its name
// (.jsonl = JSONL, anything else = text). A directory is walked recursively in
// sorted path order, so the output does not depend on the filesystem's listing
// order; it keeps .txt, .md and .jsonl files and skips hidden entries (names
// starting with '.', e.g. .git). A file reached twice is read once. A missing
// input is an Error.
std::vector<CorpusFile> list_corpus_files(const std::vector<std::filesystem::path>& inputs);

}  // namespace bit_ttt::data
