// Packed ternary weight formats and their plain scalar kernels: the definition of
// each layout and the test oracle of the SIMD kernels in kernels/cpu/ternary_*.
// Lossless w.r.t. MODEL_SPEC.md §3: the same Wq codes {-1, 0, +1}, one β per tensor.
// Shapes: weights [n_out, n_in] (PyTorch order); activations x [n_rows, n_in];
// outputs [n_rows, n_out], all row-major.
//
// Both layouts store u = code + 1 ∈ {0, 1, 2}: an unsigned digit feeds maddubs
// (unsigned × signed bytes) directly, and Σ code·x = Σ u·x − Σ x.
// Rows are padded with zero codes to whole blocks, so every row starts on a
// block boundary and a kernel never needs a scalar tail over weights.
//
// i2 (2 bits/weight, bitnet.cpp I2_S idea): blocks of 256 weights in 64 bytes.
//   Byte j of a block holds weights j, j+64, j+128, j+192 of the block in bit
//   pairs [1:0], [3:2], [5:4], [7:6]. One 64-byte load + shift + mask gives 64
//   contiguous codes (AVX-512); each 32-byte half gives four runs of 32
//   contiguous codes (AVX2). The value 3 never occurs.
// tq1 (1.6 bits/weight, llama.cpp TQ1_0 idea): blocks of 160 weights in 32 bytes.
//   Byte j holds the digits u_k of weights j + 32k, k = 0..4, as v = Σ u_k·3^(4−k)
//   scaled to q = ⌈v·256/243⌉. Digit k comes back without a division:
//   m = q·3^k mod 256 (byte-wise adds), u_k = ⌊3m/256⌋ = [m ≥ 86] + [m ≥ 171].
//   Blocks are 160 and not 320 weights so common widths pad little
//   (768 → 800, 3072 → 3200, 4096 → 4160).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <vector>

namespace bit_ttt {

enum class TernaryFormat : uint8_t { i2, tq1 };
inline constexpr int kNumTernaryFormats = 2;

inline constexpr int64_t kI2BlockWeights = 256;
inline constexpr int64_t kI2BlockBytes = 64;
inline constexpr int64_t kTq1BlockWeights = 160;
inline constexpr int64_t kTq1BlockBytes = 32;

std::string_view ternary_format_name(TernaryFormat format);
TernaryFormat parse_ternary_format(std::string_view name);  // "i2" | "tq1", fails otherwise
int64_t ternary_block_weights(TernaryFormat format);
int64_t ternary_block_bytes(TernaryFormat format);
// Bytes of one packed row of n_in weights (whole blocks).
int64_t ternary_row_stride_bytes(TernaryFormat format, int64_t n_in);

// Memory for packed weights: 64-byte aligned (cache lines, full-width SIMD loads).
template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};
  CacheLineAllocator() = default;
  template <typename U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
  void deallocate(T* p, size_t) { ::operator delete(p, kAlignment); }
  template <typename U>
  bool operator==(const CacheLineAllocator<U>&) const {
    return true;
  }
};
using AlignedBytes = std::vector<uint8_t, CacheLineAllocator<uint8_t>>;

// What the kernels read: packed rows anywhere in memory (an owned PackedTernary or
// a mapped file). Alignment is not required for correctness, only for speed.
struct TernaryMatrixView {
  TernaryFormat format = TernaryFormat::i2;
  int64_t n_out = 0;
  int64_t n_in = 0;
  int64_t row_stride_bytes = 0;
  const uint8_t* data = nullptr;  // n_out * row_stride_bytes
};

struct PackedTernary {
  TernaryFormat format = TernaryFormat::i2;
  int64_t n_out = 0;
  int64_t n_in = 0;
  int64_t row_stride_bytes = 0;
  AlignedBytes data;  // n_out * row_stride_bytes, 64-byte aligned
  float beta = 0.0f;  // the tensor's scale: W~ = β·Wq

  TernaryMatrixView view() const { return {format, n_out, n_in, row_stride_bytes, data.data()}; }
  operator TernaryMatrixView() const { return view(); }  // NOLINT: kernels take either
};

// codes int8 [n_out, n_in] in {-1, 0, +1} → packed; fails on any other code.
PackedTernary pack_ternary(TernaryFormat format, const int8_t* codes, int64_t n_out, int64_t n_in,
                           float beta);
// packed → int8 codes [n_out, n_in]; exact inverse of pack_ternary.
void unpack_ternary(const TernaryMatrixView& w, int8_t* codes);
void unpack_ternary_row(const TernaryMatrixView& w, int64_t row, int8_t* codes);  // [n_in]

// Checks packed bytes from outside (a file): stride and size match the shape and
// no i2 pair holds the unused value 3. Fails with a message naming `what`.
void validate_packed_ternary(const TernaryMatrixView& w, size_t n_bytes, std::string_view what);

namespace ref {

// out[r, o] = Σ_i xq[r, i]·Wq[o, i] for o in [out_begin, out_end), every r < n_rows.
// Exact, so every ISA's kernel must return the same integers.
void ternary_gemm_i8(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                     int64_t out_begin, int64_t out_end, int32_t* out);
// out[r, o] = Σ_i x[r, i]·Wq[o, i] summed in index order (β not applied): bit for
// bit ref::dot_f32_ternary on the unpacked codes.
void ternary_gemm_f32(const TernaryMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                      int64_t out_end, float* out);

}  // namespace ref
}  // namespace bit_ttt
