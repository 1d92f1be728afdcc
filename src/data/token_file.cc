// TokenFile: the memory-mapped reader.
#include "data/token_file.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "bit_ttt/error.h"
#include "core/mmap_file.h"

namespace bit_ttt::data {

TokenFile::TokenFile(std::shared_ptr<const MappedFile> file, TokenFileHeader header)
    : file_(std::move(file)), header_(std::move(header)) {
  tokens_ = file_->data() + kTokenFileHeaderSize;
}

TokenFile TokenFile::open(const std::filesystem::path& path) {
  auto file = MappedFile::open(path);
  const std::span<const std::byte> bytes(file->data(), file->size());
  TokenFileHeader header = parse_token_file_header(bytes, file->size(), path.string());
  return TokenFile(std::move(file), std::move(header));
}

const std::filesystem::path& TokenFile::path() const {
  return file_->path();
}

void TokenFile::fail_bad_token(int64_t position, uint32_t id) const {
  fail(path().string(), ": token ", id, " at position ", position, " (byte offset ",
       kTokenFileHeaderSize + static_cast<uint64_t>(position) * header_.token_width,
       ") is not below the vocab size ", header_.vocab_size, " (corrupt file)");
}

uint32_t TokenFile::token(int64_t i) const {
  if (i < 0 || i >= n_tokens())
    fail(path().string(), ": token index ", i, " out of range [0, ", n_tokens(), ")");
  uint32_t id;
  if (header_.token_width == 2) {
    uint16_t narrow;
    std::memcpy(&narrow, tokens_ + i * 2, sizeof(narrow));
    id = narrow;
  } else {
    std::memcpy(&id, tokens_ + i * 4, sizeof(id));
  }
  if (id >= header_.vocab_size) fail_bad_token(i, id);
  return id;
}

void TokenFile::read(int64_t begin, int64_t count, int32_t* out) const {
  if (begin < 0 || count < 0 || begin > n_tokens() || count > n_tokens() - begin)
    fail(path().string(), ": cannot read ", count, " tokens at ", begin, " from a file of ",
         n_tokens(), " tokens");
  // One pass: widen, and OR the out-of-range flag so the loop stays branch-free.
  const uint32_t vocab = header_.vocab_size;
  bool bad = false;
  if (header_.token_width == 2) {
    const std::byte* src = tokens_ + begin * 2;
    for (int64_t i = 0; i < count; ++i) {
      uint16_t id;
      std::memcpy(&id, src + i * 2, sizeof(id));
      bad |= id >= vocab;
      out[i] = id;
    }
  } else {
    const std::byte* src = tokens_ + begin * 4;
    for (int64_t i = 0; i < count; ++i) {
      uint32_t id;
      std::memcpy(&id, src + i * 4, sizeof(id));
      bad |= id >= vocab;
      out[i] = static_cast<int32_t>(id);
    }
  }
  if (!bad) return;
  for (int64_t i = 0; i < count; ++i)
    if (static_cast<uint32_t>(out[i]) >= vocab)
      fail_bad_token(begin + i, static_cast<uint32_t>(out[i]));
}

std::vector<int32_t> TokenFile::read(int64_t begin, int64_t count) const {
  std::vector<int32_t> out(static_cast<size_t>(count < 0 ? 0 : count));
  read(begin, count, out.data());
  return out;
}

void TokenFile::check_all_tokens() const {
  constexpr int64_t kBlock = 1 << 16;
  std::vector<int32_t> block(kBlock);
  for (int64_t begin = 0; begin < n_tokens(); begin += kBlock)
    read(begin, std::min(kBlock, n_tokens() - begin), block.data());
}

}  // namespace bit_ttt::data
