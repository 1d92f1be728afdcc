// NumPy .npy files (format 1.0 on write; 1.0, 2.0 and 3.0 on read), for dumping
// activations and comparing them against reference implementations in Python.
// Little-endian, C order only. Details in docs/formats.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "core/dtype.h"

namespace bit_ttt {

// Writes atomically. `data` holds product(shape) elements of `dtype` in C order
// (nullptr is fine when that product is 0). Supported: F32, F16, F64, I8, I16,
// I32, I64, U8, U16, U32, U64, BOOL; BF16 and FP8 have no NumPy dtype and fail.
void write_npy(const std::filesystem::path& path, DType dtype, std::span<const int64_t> shape,
               const void* data);

struct NpyArray {
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;  // product(shape) * dtype_size(dtype), C order
};

// Errors name the file and the problem: bad magic or version, Fortran order,
// big-endian or unknown dtypes, malformed header, truncated or oversized data.
NpyArray read_npy(const std::filesystem::path& path);
// The same parser over bytes in memory; `path` only names the source in errors.
NpyArray parse_npy(std::span<const std::byte> bytes, const std::filesystem::path& path);

}  // namespace bit_ttt
