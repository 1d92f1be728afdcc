// .bitt: one file holding a whole model — config JSON, tokenizer.json text,
// metadata and every tensor (float, int8 or packed ternary), each 64-byte
// aligned so packed weights are used in place from the mapping. The reader maps
// the file and validates the whole header up front (O(header), the data is not
// read); verify() checks the data against the per-tensor checksums on request.
// The layout and every rule are in docs/bitt-format.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/ref/ternary_packed_ref.h"

namespace bit_ttt {

// Element types a .bitt tensor may have. Ternary tensors are [n_out, n_in] rows
// packed as in kernels/ref/ternary_packed_ref.h.
enum class BittDType { f32, f16, bf16, i8, ternary_i2, ternary_tq1 };

std::string_view bitt_dtype_name(BittDType dtype);  // "f32", ..., "ternary_tq1"
std::optional<BittDType> bitt_dtype_from_name(std::string_view name);
// The packed layout of a ternary dtype; nullopt for the plain ones.
std::optional<TernaryFormat> bitt_ternary_format(BittDType dtype);
// Bytes a tensor of this dtype and shape occupies: product(shape) * element size,
// or n_out * ternary_row_stride_bytes(format, n_in) for ternary dtypes (which
// must have rank 2). nullopt for a negative dim, a wrong rank or 64-bit overflow.
std::optional<uint64_t> bitt_n_bytes(BittDType dtype, std::span<const int64_t> shape);
// The per-tensor (and header) checksum: XXH3-64 with seed 0.
uint64_t bitt_checksum(std::span<const std::byte> bytes);

struct BittTensor {
  std::string name;
  BittDType dtype = BittDType::f32;
  std::vector<int64_t> shape;
  std::optional<float> scale;        // e.g. the ternary β
  uint64_t checksum = 0;             // XXH3-64 of `bytes`, as stored in the header
  uint64_t offset = 0;               // from the start of the data section; a multiple of 64
  std::span<const std::byte> bytes;  // zero-copy into the file's mapping
};

class BittFile {
 public:
  // mmap + full validation of the prefix and header; every problem is a
  // bit_ttt::Error starting with the path. Does not read the tensor data.
  static BittFile open(const std::filesystem::path& path);
  // The same parser over bytes already in memory (tests, fuzzing). `owner` keeps
  // `bytes` alive; `path` only names the source in error messages.
  static BittFile from_memory(std::filesystem::path path, std::span<const std::byte> bytes,
                              std::shared_ptr<const void> owner);

  const std::filesystem::path& path() const { return path_; }
  uint32_t version() const { return version_; }
  // The "config" object, re-serialized as compact JSON text.
  const std::string& config_json() const { return config_json_; }
  // The tokenizer.json text; nullopt when the file has none.
  const std::optional<std::string>& tokenizer_json() const { return tokenizer_json_; }
  const std::string& fingerprint() const { return fingerprint_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // In header order (which is data-offset order for files from write_bitt).
  const std::vector<BittTensor>& tensors() const { return tensors_; }
  // nullptr when absent.
  const BittTensor* find(std::string_view name) const;
  // Error "FILE: missing tensor 'NAME'" when absent.
  const BittTensor& get(std::string_view name) const;
  // The packed rows of a ternary tensor, in place; an error names the file and
  // tensor when it is missing or not ternary. The view is valid while owner()
  // (shared by every copy of this BittFile) is alive.
  TernaryMatrixView ternary_view(std::string_view name) const;
  // Keeps the mapping (or the from_memory bytes) alive.
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // Reads all data: recomputes every tensor's checksum and checks packed ternary
  // bytes (validate_packed_ternary: no i2 pair holds 3). The error names the file
  // and the first bad tensor in header order.
  void verify() const;

 private:
  BittFile() = default;

  std::filesystem::path path_;
  std::shared_ptr<const void> owner_;
  uint32_t version_ = 0;
  std::string config_json_;
  std::optional<std::string> tokenizer_json_;
  std::string fingerprint_;
  std::map<std::string, std::string> metadata_;
  std::vector<BittTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_by_name_;  // into tensors_
};

struct BittTensorToWrite {
  std::string name;
  BittDType dtype = BittDType::f32;
  std::vector<int64_t> shape;
  std::optional<float> scale;
  std::span<const std::byte> bytes;  // bitt_n_bytes(dtype, shape) bytes
};

struct BittContents {
  std::string config_json = "{}";  // must be a JSON object
  std::optional<std::string> tokenizer_json;
  std::string fingerprint;
  std::map<std::string, std::string> metadata;
  std::vector<BittTensorToWrite> tensors;
};

// Validates everything first (no file is created on error): config_json is a
// JSON object; strings are valid UTF-8; names non-empty and unique; shapes valid
// for their dtype; bytes.size() == bitt_n_bytes; scales finite; packed ternary
// bytes pass validate_packed_ternary. Then lays the tensors out in the given
// order at 64-byte aligned offsets with zero padding, computes the checksums and
// writes atomically (AtomicFileWriter: temp file, fsync, rename).
void write_bitt(const std::filesystem::path& path, const BittContents& contents);

}  // namespace bit_ttt
