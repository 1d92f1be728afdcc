// safetensors files (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape
// and byte range, then the raw data. The reader maps the file and validates all
// of it up front, so that later accessors can trust every offset. What we accept
// and reject is listed in docs/formats.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace bit_ttt {

struct SafetensorsTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const std::byte* data;  // inside the reader's mapping; n_bytes == product(shape) * dtype size
  size_t n_bytes;
};

// float32 values of one tensor; owner keeps the mapping or a converted buffer alive.
struct F32Data {
  const float* data = nullptr;
  size_t count = 0;
  std::shared_ptr<const void> owner;
};

class SafetensorsReader {
 public:
  // mmap + full validation; every problem is a bit_ttt::Error naming the file.
  static SafetensorsReader open(const std::filesystem::path& path);
  // The same parser over bytes already in memory (tests, fuzzing, embedded files).
  // `owner` keeps `bytes` alive and is shared by zero-copy F32Data; `path` only
  // names the source in error messages.
  static SafetensorsReader from_memory(std::filesystem::path path, std::span<const std::byte> bytes,
                                       std::shared_ptr<const void> owner);

  const std::filesystem::path& path() const { return path_; }
  // "__metadata__": string values only (anything else is rejected by open()).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // In data-offset order.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  // nullptr when absent.
  const SafetensorsTensor* find(std::string_view name) const;
  // Error "FILE: missing tensor 'NAME'" when absent.
  const SafetensorsTensor& get(std::string_view name) const;

  // Values as float32 after checking the shape (error "FILE: tensor 'NAME' has
  // shape [a, b], expected [c, d]"). F32 stored 4-byte aligned is zero-copy into
  // the mapping; F16, BF16 and unaligned F32 are converted into a new buffer.
  // Other dtypes are an error naming the dtype.
  F32Data load_f32(std::string_view name, std::span<const int64_t> expected_shape) const;

 private:
  SafetensorsReader() = default;

  std::filesystem::path path_;
  std::shared_ptr<const void> owner_;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_by_name_;  // into tensors_
};

struct SafetensorsTensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::span<const std::byte> bytes;
};

// Writes atomically (AtomicFileWriter). The header JSON is padded with spaces so
// the data section starts 8-byte aligned, and tensors are laid out back to back
// in the given order (no gaps, which other readers reject), so put 4- and 8-byte
// dtypes first if you want every F32 tensor to load zero-copy. Validates that
// names are unique, non-empty UTF-8 and not "__metadata__", and that each
// bytes.size() == product(shape) * dtype size.
void write_safetensors(const std::filesystem::path& path,
                       std::span<const SafetensorsTensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace bit_ttt
