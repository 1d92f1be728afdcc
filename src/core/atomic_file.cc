#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "bit_ttt/error.h"

namespace bit_ttt {
namespace {

std::filesystem::path directory_of(const std::filesystem::path& path) {
  std::filesystem::path parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// A name no other writer (thread or process) picks: pid + counter + random.
// O_EXCL below still guards against the unlikely collision.
std::filesystem::path temp_name_for(const std::filesystem::path& target, int attempt) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::string name = "." + target.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(counter++) + "." + std::to_string(random() % 1000000) + "." +
                     std::to_string(attempt);
  return directory_of(target) / name;
}

int fsync_retrying(int fd) {
  int result;
  do {
    result = ::fsync(fd);
  } while (result != 0 && errno == EINTR);
  return result;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::filesystem::path target) : target_(std::move(target)) {
  if (target_.filename().empty()) fail(target_.string(), ": not a file path (no file name)");
  for (int attempt = 0; attempt < 16; ++attempt) {
    temp_path_ = temp_name_for(target_, attempt);
    // 0666 & ~umask: the same permissions a plain create would give.
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) return;
    if (errno != EEXIST && errno != EINTR) break;
  }
  const int error_number = errno;
  state_ = State::failed;
  fail(target_.string(), ": cannot create temp file ", temp_path_.string(), ": ",
       std::strerror(error_number));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (state_ == State::open) discard_temp();
}

void AtomicFileWriter::discard_temp() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::abandon(std::string_view what, int error_number) {
  discard_temp();
  state_ = State::failed;
  fail(target_.string(), ": ", what, ": ", std::strerror(error_number));
}

void AtomicFileWriter::write(const void* data, size_t n_bytes) {
  if (state_ != State::open) {
    fail(target_.string(), ": write after ", state_ == State::committed ? "commit" : "a failure");
  }
  const auto* bytes = static_cast<const char*>(data);
  while (n_bytes > 0) {
    const ssize_t n_written = ::write(fd_, bytes, n_bytes);
    if (n_written < 0) {
      const int error_number = errno;
      if (error_number == EINTR) continue;
      abandon("write failed after " + std::to_string(n_bytes_written_) + " bytes", error_number);
    }
    // write() returning 0 for a non-zero request means no progress is possible.
    if (n_written == 0) abandon("write made no progress", ENOSPC);
    bytes += n_written;
    n_bytes -= static_cast<size_t>(n_written);
    n_bytes_written_ += static_cast<size_t>(n_written);
  }
}

void AtomicFileWriter::commit() {
  if (state_ != State::open) {
    fail(target_.string(), ": commit after ", state_ == State::committed ? "commit" : "a failure");
  }
  // Data must be durable before the rename makes it visible, or a crash could
  // leave the new name pointing at an empty or partial file.
  if (fsync_retrying(fd_) != 0) abandon("fsync failed", errno);
  const int fd = std::exchange(fd_, -1);
  // close() can report a delayed write error (NFS); treat it like a failed write.
  if (::close(fd) != 0 && errno != EINTR) abandon("close failed", errno);
  if (::rename(temp_path_.c_str(), target_.c_str()) != 0) abandon("rename failed", errno);
  state_ = State::committed;

  // The rename is done, so the target already holds the new content; what is
  // left is making the directory entry durable.
  const std::filesystem::path directory = directory_of(target_);
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    fail(target_.string(), ": written, but cannot open directory ", directory.string(),
         " to sync it: ", std::strerror(errno));
  }
  const int sync_result = fsync_retrying(dir_fd);
  const int sync_errno = errno;
  ::close(dir_fd);
  // Some filesystems cannot fsync a directory at all (EINVAL); that is not a failure
  // of this write.
  if (sync_result != 0 && sync_errno != EINVAL && sync_errno != ENOTSUP) {
    fail(target_.string(), ": written, but syncing directory ", directory.string(),
         " failed: ", std::strerror(sync_errno));
  }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes.data(), bytes.size());
  writer.commit();
}

}  // namespace bit_ttt
