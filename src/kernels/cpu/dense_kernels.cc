#include "kernels/cpu/dense_kernels.h"

#include <memory>
#include <new>

#include "bit_ttt/error.h"
#include "core/check.h"
#include "kernels/cpu/ternary_kernels.h"

namespace bit_ttt::cpu {
namespace {

const DenseKernelTable kScalarTable = {
    "scalar",
    {ref::dense_gemm, ref::dense_gemm, ref::dense_gemm},
    ref::dense_gemm_i8,
    ref::dense_row_to_f32,
};

void check_call(const DenseMatrixView& w, int64_t n_rows, int64_t out_begin, int64_t out_end) {
  BT_CHECK(n_rows >= 0 && 0 <= out_begin && out_begin <= out_end && out_end <= w.n_out);
  BT_CHECK(static_cast<int>(w.dtype) < kNumDenseDTypes);
  BT_CHECK(w.dtype != DenseDType::i8_row || w.row_scales != nullptr);
}

struct FreeAligned {
  void operator()(uint8_t* p) const { ::operator delete (p, std::align_val_t{64}); }
};

}  // namespace

const DenseKernelTable* dense_kernel_table_scalar() {
  return &kScalarTable;
}

uint8_t* dense_thread_scratch(size_t n_bytes) {
  thread_local std::unique_ptr<uint8_t, FreeAligned> buffer;
  thread_local size_t capacity = 0;
  if (n_bytes == 0) n_bytes = 1;  // never hand out nullptr
  if (n_bytes > capacity) {
    buffer.reset();
    capacity = (n_bytes + 4095) / 4096 * 4096;
    buffer.reset(static_cast<uint8_t*>(::operator new (capacity, std::align_val_t{64})));
  }
  return buffer.get();
}

const DenseKernelTable& dense_kernels(Isa isa) {
  if (!isa_supported(isa))
    fail("cannot use ", isa_name(isa), " kernels on this CPU (best: ", isa_name(detect_isa()), ")");
  const DenseKernelTable* table = nullptr;
  switch (isa) {
    case Isa::avx512:
      // VPDPBUSD only where CPUID reports AVX512-VNNI (and the OS saves ZMM state,
      // which isa_supported(avx512) already checked).
      if (cpu_features().avx512vnni) table = dense_kernel_table_avx512vnni();
      if (table == nullptr) table = dense_kernel_table_avx512();
      break;
    case Isa::avx2:
      table = dense_kernel_table_avx2();
      break;
    case Isa::scalar:
      table = dense_kernel_table_scalar();
      break;
  }
  BT_CHECK(table != nullptr);
  return *table;
}

const DenseKernelTable& active_dense_kernels() {
  return dense_kernels(active_isa());
}

std::vector<const DenseKernelTable*> runnable_dense_kernel_tables() {
  std::vector<const DenseKernelTable*> tables;
  for (Isa isa : supported_isas()) {
    if (isa == Isa::avx512) {
      if (dense_kernel_table_avx512() != nullptr) tables.push_back(dense_kernel_table_avx512());
      if (cpu_features().avx512vnni && dense_kernel_table_avx512vnni() != nullptr)
        tables.push_back(dense_kernel_table_avx512vnni());
    } else {
      tables.push_back(&dense_kernels(isa));
    }
  }
  return tables;
}

void dense_gemm(const DenseMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                int64_t out_end, float* out) {
  check_call(w, n_rows, out_begin, out_end);
  if (n_rows == 0 || out_begin == out_end) return;
  if (w.dtype == DenseDType::i8_row) {
    // Not dense_thread_scratch: the kernel uses that one for its own copy of the tile.
    thread_local std::vector<int8_t> xq;
    thread_local std::vector<float> gammas;
    xq.resize(static_cast<size_t>(n_rows * w.n_in));
    gammas.resize(static_cast<size_t>(n_rows));
    dense_quantize_rows_i8(x, n_rows, w.n_in, xq.data(), gammas.data());
    active_dense_kernels().gemm_i8(w, xq.data(), gammas.data(), n_rows, out_begin, out_end, out);
    return;
  }
  active_dense_kernels().gemm[static_cast<int>(w.dtype)](w, x, n_rows, out_begin, out_end, out);
}

void dense_gemv(const DenseMatrixView& w, const float* x, int64_t out_begin, int64_t out_end,
                float* out) {
  dense_gemm(w, x, 1, out_begin, out_end, out);
}

void dense_gemm_i8(const DenseMatrixView& w, const int8_t* xq, const float* gammas, int64_t n_rows,
                   int64_t out_begin, int64_t out_end, float* out) {
  check_call(w, n_rows, out_begin, out_end);
  BT_CHECK(w.dtype == DenseDType::i8_row);
  if (n_rows == 0 || out_begin == out_end) return;
  active_dense_kernels().gemm_i8(w, xq, gammas, n_rows, out_begin, out_end, out);
}

void dense_quantize_rows_i8(const float* x, int64_t n_rows, int64_t n_in, int8_t* xq,
                            float* gammas) {
  for (int64_t r = 0; r < n_rows; ++r)
    gammas[r] = ternary_quantize_row_i8(x + r * n_in, n_in, xq + r * n_in);
}

void dense_row_to_f32(const DenseMatrixView& w, int64_t row, float* out) {
  BT_CHECK(0 <= row && row < w.n_out);
  BT_CHECK(w.dtype != DenseDType::i8_row || w.row_scales != nullptr);
  active_dense_kernels().row_to_f32(w, row, out);
}

}  // namespace bit_ttt::cpu
