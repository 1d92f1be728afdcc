#include "data/corpus_files.h"

#include <algorithm>
#include <set>
#include <system_error>

#include "bit_ttt/error.h"

namespace bit_ttt::data {
namespace {

CorpusFormat format_of(const std::filesystem::path& path) {
  return path.extension() == ".jsonl" ? CorpusFormat::jsonl : CorpusFormat::text;
}

bool is_corpus_extension(const std::filesystem::path& path) {
  const auto extension = path.extension();
  return extension == ".txt" || extension == ".md" || extension == ".jsonl";
}

bool is_hidden(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

uint64_t size_of(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) fail(path.string(), ": cannot read file size: ", error.message());
  return size;
}

std::vector<std::filesystem::path> walk_directory(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> found;
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(root, error), end;
  if (error) fail(root.string(), ": cannot list directory: ", error.message());
  for (; it != end; it.increment(error)) {
    if (error) fail(root.string(), ": cannot list directory: ", error.message());
    const std::filesystem::path& path = it->path();
    if (is_hidden(path)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && is_corpus_extension(path)) found.push_back(path);
  }
  if (error) fail(root.string(), ": cannot list directory: ", error.message());
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::vector<CorpusFile> list_corpus_files(const std::vector<std::filesystem::path>& inputs) {
  std::vector<CorpusFile> files;
  std::set<std::filesystem::path> seen;
  auto add = [&](const std::filesystem::path& path) {
    std::error_code error;
    const auto canonical = std::filesystem::weakly_canonical(path, error);
    if (!seen.insert(error ? path : canonical).second) return;
    files.push_back({path, format_of(path), size_of(path)});
  };
  for (const auto& input : inputs) {
    std::error_code error;
    const auto status = std::filesystem::status(input, error);
    if (!std::filesystem::exists(status))
      fail(input.string(), ": input not found", error ? ": " + error.message() : "");
    if (std::filesystem::is_directory(status)) {
      for (const auto& path : walk_directory(input)) add(path);
    } else if (std::filesystem::is_regular_file(status)) {
      add(input);
    } else {
      fail(input.string(), ": input is neither a regular file nor a directory");
    }
  }
  return files;
}

}  // namespace bit_ttt::data
