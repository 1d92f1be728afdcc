// TokenFileWriter: streaming, atomic creation of a token file.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bit_ttt/error.h"
#include "core/atomic_file.h"
#include "data/token_file.h"

namespace bit_ttt::data {
namespace {

constexpr size_t kBufferBytes = 1 << 20;

// pwrite the whole range, retrying on EINTR and short writes.
void pwrite_all(int fd, const char* data, size_t n_bytes, off_t offset, const std::string& what) {
  while (n_bytes > 0) {
    const ssize_t n = ::pwrite(fd, data, n_bytes, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(what, ": cannot write the header: ", std::strerror(n < 0 ? errno : ENOSPC));
    data += n;
    n_bytes -= static_cast<size_t>(n);
    offset += n;
  }
}

}  // namespace

TokenFileWriter::TokenFileWriter(const std::filesystem::path& path, uint32_t vocab_size,
                                 std::optional<int32_t> eos_id, std::string fingerprint)
    : path_(path) {
  header_.vocab_size = vocab_size;
  header_.token_width = token_width_for_vocab(vocab_size);
  if (eos_id && *eos_id < 0) fail(path.string(), ": negative eos id ", *eos_id);
  header_.eos_id = eos_id ? static_cast<uint32_t>(*eos_id) : kNoEosId;
  header_.fingerprint = std::move(fingerprint);
  // Validate before creating anything; the count is patched in by commit().
  const std::string header_bytes = encode_token_file_header(header_);
  writer_ = std::make_unique<AtomicFileWriter>(path_);
  writer_->write(header_bytes.data(), header_bytes.size());
  buffer_.reserve(kBufferBytes);
}

TokenFileWriter::~TokenFileWriter() = default;

void TokenFileWriter::append(std::span<const int32_t> tokens) {
  if (committed_) fail(path_.string(), ": append after commit");
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<uint32_t>(tokens[i]) >= header_.vocab_size)
      fail(path_.string(), ": cannot write token ", tokens[i], " (appended token ",
           n_tokens() + static_cast<int64_t>(i), "): not in [0, ", header_.vocab_size, ")");
  }
  const size_t width = header_.token_width;
  for (int32_t token : tokens) {
    if (buffer_.size() + width > kBufferBytes) flush_buffer();
    const size_t at = buffer_.size();
    buffer_.resize(at + width);
    if (width == 2) {
      const auto narrow = static_cast<uint16_t>(token);
      std::memcpy(buffer_.data() + at, &narrow, 2);
    } else {
      std::memcpy(buffer_.data() + at, &token, 4);
    }
  }
  header_.n_tokens += tokens.size();
}

void TokenFileWriter::flush_buffer() {
  if (buffer_.empty()) return;
  writer_->write(buffer_.data(), buffer_.size());
  buffer_.clear();
}

void TokenFileWriter::commit() {
  if (committed_) fail(path_.string(), ": commit after commit");
  flush_buffer();
  // AtomicFileWriter only appends, so the final count goes in through a second
  // descriptor on the same temp file. commit()'s fsync flushes the whole inode,
  // this write included, before the rename makes the file visible.
  const std::string header_bytes = encode_token_file_header(header_);
  const int fd = ::open(writer_->temp_path().c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    fail(path_.string(), ": cannot reopen temp file ", writer_->temp_path().string(), ": ",
         std::strerror(errno));
  try {
    pwrite_all(fd, header_bytes.data(), header_bytes.size(), 0, path_.string());
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0 && errno != EINTR)
    fail(path_.string(), ": cannot write the header: ", std::strerror(errno));
  writer_->commit();
  committed_ = true;
}

}  // namespace bit_ttt::data
