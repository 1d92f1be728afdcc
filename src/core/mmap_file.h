// Read-only memory mapping of a whole file, shared by everything that views it
// (tensors loaded zero-copy keep the mapping alive through their owner handle).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

namespace bit_ttt {

class MappedFile {
 public:
  // Fails (bit_ttt::Error naming the path and the reason) for a missing file, a
  // directory, anything that is not a regular file, or no permission.
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();  // munmap

  // nullptr for an empty file (size 0): there is nothing to map.
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile(std::filesystem::path path, const std::byte* data, size_t size);

  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bit_ttt
