#include "core/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "bit_ttt/error.h"

namespace bit_ttt {
namespace {

// Closes the descriptor on every path out of open(); the mapping outlives it.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

MappedFile::MappedFile(std::filesystem::path path, const std::byte* data, size_t size)
    : path_(std::move(path)), data_(data), size_(size) {}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

std::shared_ptr<const MappedFile> MappedFile::open(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO would otherwise block forever before we can
  // reject it; it has no effect on regular files.
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail(path.string(), ": cannot open: ", std::strerror(errno));
  const FdCloser closer(fd);

  struct stat info {};
  if (::fstat(fd, &info) != 0) fail(path.string(), ": cannot stat: ", std::strerror(errno));
  if (S_ISDIR(info.st_mode)) fail(path.string(), ": is a directory, expected a file");
  if (!S_ISREG(info.st_mode)) fail(path.string(), ": is not a regular file");
  static_assert(sizeof(size_t) >= sizeof(info.st_size), "a 64-bit host maps any file size");
  if (info.st_size < 0) fail(path.string(), ": negative file size ", info.st_size);
  // Own the object before mapping so that nothing can leak the mapping.
  std::unique_ptr<MappedFile> file(new MappedFile(path, nullptr, 0));
  const auto size = static_cast<size_t>(info.st_size);
  if (size == 0) return file;

  // Read-only and private: we never write through it. A file truncated by
  // someone else while mapped would fault (SIGBUS) on access, which is why our
  // own writers replace files by rename instead of rewriting them in place.
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (mapping == MAP_FAILED) fail(path.string(), ": cannot mmap: ", std::strerror(errno));
  file->data_ = static_cast<const std::byte*>(mapping);
  file->size_ = size;
  return file;
}

}  // namespace bit_ttt
