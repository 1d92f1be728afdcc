// libFuzzer target for the safetensors parser. Any input may be rejected with
// bit_ttt::Error; anything else (crash, sanitizer report, other exception,
// broken invariant below, allocation over -malloc_limit_mb) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bit_ttt/error.h"
#include "io/safetensors.h"

namespace {

// What the reader promises about an accepted file; checked on every input.
void check_invariants(const bit_ttt::SafetensorsReader& reader, const std::byte* begin,
                      size_t size) {
  const std::byte* end = begin + size;
  const std::byte* previous_end = begin;
  for (const bit_ttt::SafetensorsTensor& tensor : reader.tensors()) {
    if (tensor.data < begin || tensor.data > end || tensor.n_bytes > size_t(end - tensor.data)) {
      std::abort();  // a tensor outside the input
    }
    size_t count = 1;
    for (const int64_t dim : tensor.shape) {
      if (dim < 0) std::abort();
      count *= static_cast<size_t>(dim);  // cannot overflow: checked by the reader
    }
    if (count * bit_ttt::dtype_size(tensor.dtype) != tensor.n_bytes) std::abort();
    if (tensor.n_bytes > 0) {
      if (tensor.data < previous_end) std::abort();  // overlap or not in offset order
      previous_end = tensor.data + tensor.n_bytes;
    }
    if (reader.find(tensor.name) != &tensor) std::abort();
    // Touch the first and last byte so ASan checks the range really is readable.
    if (tensor.n_bytes > 0) {
      volatile std::byte first = tensor.data[0];
      volatile std::byte last = tensor.data[tensor.n_bytes - 1];
      (void)first;
      (void)last;
    }
    const bool is_float = tensor.dtype == bit_ttt::DType::f32 ||
                          tensor.dtype == bit_ttt::DType::f16 ||
                          tensor.dtype == bit_ttt::DType::bf16;
    if (is_float) {
      const bit_ttt::F32Data values = reader.load_f32(tensor.name, tensor.shape);
      if (values.count != count) std::abort();
      float sum = 0;
      for (size_t i = 0; i < values.count; ++i) sum += values.data[i];
      (void)sum;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // libFuzzer's buffer is exactly `size` bytes on the heap, so ASan flags any
  // read past the end; it outlives this call, so no owner is needed.
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  try {
    const bit_ttt::SafetensorsReader reader =
        bit_ttt::SafetensorsReader::from_memory("fuzz-input", {bytes, size}, nullptr);
    check_invariants(reader, bytes, size);
  } catch (const bit_ttt::Error& error) {
    // Every message must name the source.
    if (std::strncmp(error.what(), "fuzz-input: ", 12) != 0) std::abort();
  }
  return 0;
}
