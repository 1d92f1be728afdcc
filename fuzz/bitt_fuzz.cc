// libFuzzer target for the .bitt parser. Any input may be rejected with
// bit_ttt::Error; anything else (crash, sanitizer report, other exception,
// broken invariant below, allocation over -malloc_limit_mb) is a finding.
//
// The header checksum would stop almost every mutation of the JSON at the first
// check, so each input is parsed twice: as is, and with the header checksum
// recomputed, which lets the fuzzer reach the JSON and table validation.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "bit_ttt/error.h"
#include "io/bitt.h"

namespace {

constexpr size_t kPrefixBytes = 24;

// What the reader promises about an accepted file; checked on every input.
void check_invariants(const bit_ttt::BittFile& file, const std::byte* begin, size_t size) {
  const std::byte* end = begin + size;
  for (const bit_ttt::BittTensor& tensor : file.tensors()) {
    const std::byte* data = tensor.bytes.data();
    const size_t n_bytes = tensor.bytes.size();
    if (n_bytes > 0 && (data < begin || data > end || n_bytes > size_t(end - data))) {
      std::abort();  // a tensor outside the input
    }
    if (tensor.offset % 64 != 0) std::abort();
    const std::optional<uint64_t> expected = bit_ttt::bitt_n_bytes(tensor.dtype, tensor.shape);
    if (!expected || *expected != n_bytes) std::abort();
    if (file.find(tensor.name) != &tensor) std::abort();
    if (tensor.scale && !std::isfinite(*tensor.scale)) std::abort();
    // Touch the first and last byte so ASan checks the range really is readable.
    if (n_bytes > 0) {
      volatile std::byte first = data[0];
      volatile std::byte last = data[n_bytes - 1];
      (void)first;
      (void)last;
    }
  }
  // Non-empty tensors never share a byte.
  for (const bit_ttt::BittTensor& a : file.tensors()) {
    for (const bit_ttt::BittTensor& b : file.tensors()) {
      if (&a == &b || a.bytes.empty() || b.bytes.empty()) continue;
      if (a.bytes.data() < b.bytes.data() + b.bytes.size() &&
          b.bytes.data() < a.bytes.data() + a.bytes.size()) {
        std::abort();
      }
    }
  }
  try {
    file.verify();
  } catch (const bit_ttt::Error& error) {
    if (std::strncmp(error.what(), "fuzz-input: ", 12) != 0) std::abort();
    return;
  }
  // Verified: every ternary tensor unpacks. n_out > 0 bounds n_in by the input size.
  for (const bit_ttt::BittTensor& tensor : file.tensors()) {
    if (!bit_ttt::bitt_ternary_format(tensor.dtype) || tensor.shape[0] == 0) continue;
    const bit_ttt::TernaryMatrixView view = file.ternary_view(tensor.name);
    std::vector<int8_t> codes(static_cast<size_t>(view.n_in));
    bit_ttt::unpack_ternary_row(view, view.n_out - 1, codes.data());
    for (const int8_t code : codes) {
      if (code < -1 || code > 1) std::abort();
    }
  }
}

void parse(const std::byte* bytes, size_t size) {
  try {
    const bit_ttt::BittFile file =
        bit_ttt::BittFile::from_memory("fuzz-input", {bytes, size}, nullptr);
    check_invariants(file, bytes, size);
  } catch (const bit_ttt::Error& error) {
    // Every message must name the source.
    if (std::strncmp(error.what(), "fuzz-input: ", 12) != 0) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // libFuzzer's buffer is exactly `size` bytes on the heap, so ASan flags any
  // read past the end; it outlives this call, so no owner is needed.
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  parse(bytes, size);

  uint64_t header_length = 0;
  if (size >= kPrefixBytes) std::memcpy(&header_length, data + 8, 8);
  if (size < kPrefixBytes || header_length > size - kPrefixBytes) return 0;
  // An exactly sized heap copy keeps ASan's end-of-buffer check.
  std::vector<std::byte> fixed(bytes, bytes + size);
  const uint64_t checksum = bit_ttt::bitt_checksum(
      std::span(fixed).subspan(kPrefixBytes, static_cast<size_t>(header_length)));
  std::memcpy(fixed.data() + 16, &checksum, 8);
  parse(fixed.data(), fixed.size());
  return 0;
}
