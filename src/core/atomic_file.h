// Crash-safe file replacement: readers of the target see either the old file or
// the complete new one, never a torn write. The bytes go to a temp file in the
// same directory (rename is only atomic within one filesystem), which is fsynced,
// renamed over the target, and then the directory is fsynced so that the rename
// itself survives a power cut. A new file gets 0666 & ~umask; if the target is a
// symlink, the link itself is replaced (rename semantics), not the file it names.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace bit_ttt {

class AtomicFileWriter {
 public:
  // Creates the temp file next to `target` (error if the directory is missing or
  // not writable). The target is not touched until commit().
  explicit AtomicFileWriter(std::filesystem::path target);
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  // Not committed -> the temp file is removed and the target is left as it was.
  ~AtomicFileWriter();

  // On failure (ENOSPC, EIO, EFBIG, ...) the temp file is removed, the target is
  // untouched, and the Error names the target and strerror; the writer is then
  // dead and further calls fail.
  void write(const void* data, size_t n_bytes);
  // fsync + rename over the target + fsync the directory. Same failure rules.
  void commit();

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }
  size_t n_bytes_written() const { return n_bytes_written_; }

 private:
  enum class State { open, committed, failed };

  // Removes the temp file, marks the writer failed and throws.
  [[noreturn]] void abandon(std::string_view what, int error_number);
  void discard_temp() noexcept;

  std::filesystem::path target_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  size_t n_bytes_written_ = 0;
  State state_ = State::open;
};

// One-shot helper: the whole content in one call, committed atomically.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace bit_ttt
