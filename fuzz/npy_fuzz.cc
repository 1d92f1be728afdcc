// libFuzzer target for the .npy parser: bit_ttt::Error is the only acceptable
// failure; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bit_ttt/error.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const bit_ttt::NpyArray array =
        bit_ttt::parse_npy({reinterpret_cast<const std::byte*>(data), size}, "fuzz-input");
    size_t n_bytes = bit_ttt::dtype_size(array.dtype);
    for (const int64_t dim : array.shape) {
      if (dim < 0) std::abort();
      n_bytes *= static_cast<size_t>(dim);
    }
    if (n_bytes != array.bytes.size() || n_bytes > size) std::abort();
  } catch (const bit_ttt::Error& error) {
    if (std::strncmp(error.what(), "fuzz-input: ", 12) != 0) std::abort();
  }
  return 0;
}
