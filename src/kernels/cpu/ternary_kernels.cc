#include "kernels/cpu/ternary_kernels.h"

#include <memory>
#include <new>
#include <vector>

#include "bit_ttt/error.h"
#include "core/check.h"
#include "kernels/ref/ref_kernels.h"

namespace bit_ttt::cpu {
namespace {

const TernaryKernelTable kScalarTable = {
    "scalar",
    {ref::ternary_gemm_i8, ref::ternary_gemm_i8},
    {ref::ternary_gemm_f32, ref::ternary_gemm_f32},
    ref::int8_quantize_row,
};

void check_call(const TernaryMatrixView& w, int64_t n_rows, int64_t out_begin, int64_t out_end) {
  BT_CHECK(n_rows >= 0 && 0 <= out_begin && out_begin <= out_end && out_end <= w.n_out);
  BT_CHECK(w.row_stride_bytes == ternary_row_stride_bytes(w.format, w.n_in));
  BT_CHECK(static_cast<int>(w.format) < kNumTernaryFormats);
}

struct FreeAligned {
  void operator()(uint8_t* p) const { ::operator delete (p, std::align_val_t{64}); }
};

}  // namespace

const TernaryKernelTable* ternary_kernel_table_scalar() {
  return &kScalarTable;
}

uint8_t* ternary_thread_scratch(size_t n_bytes) {
  thread_local std::unique_ptr<uint8_t, FreeAligned> buffer;
  thread_local size_t capacity = 0;
  if (n_bytes > capacity) {
    buffer.reset();
    capacity = (n_bytes + 4095) / 4096 * 4096;
    buffer.reset(static_cast<uint8_t*>(::operator new (capacity, std::align_val_t{64})));
  }
  return buffer.get();
}

const TernaryKernelTable& ternary_kernels(Isa isa) {
  if (!isa_supported(isa))
    fail("cannot use ", isa_name(isa), " kernels on this CPU (best: ", isa_name(detect_isa()), ")");
  if (isa == Isa::avx512 && cpu_features().avx512vnni && ternary_kernel_table_avx512vnni())
    return *ternary_kernel_table_avx512vnni();
  const TernaryKernelTable* table = isa == Isa::avx512 ? ternary_kernel_table_avx512()
                                    : isa == Isa::avx2 ? ternary_kernel_table_avx2()
                                                       : ternary_kernel_table_scalar();
  BT_CHECK(table != nullptr);
  return *table;
}

std::vector<const TernaryKernelTable*> runnable_ternary_kernel_tables() {
  std::vector<const TernaryKernelTable*> tables;
  for (Isa isa : supported_isas()) {
    if (isa == Isa::avx512 && ternary_kernel_table_avx512())
      tables.push_back(ternary_kernel_table_avx512());
    tables.push_back(&ternary_kernels(isa));  // avx512: the VNNI table when the CPU has it
  }
  std::erase(tables, nullptr);
  for (size_t i = 1; i < tables.size(); ++i)  // avx512 without VNNI would appear twice
    if (tables[i] == tables[i - 1]) tables.erase(tables.begin() + static_cast<ptrdiff_t>(i--));
  return tables;
}

const TernaryKernelTable& active_ternary_kernels() {
  return ternary_kernels(active_isa());
}

void ternary_gemm_i8(const TernaryMatrixView& w, const int8_t* xq, int64_t n_rows,
                     int64_t out_begin, int64_t out_end, int32_t* out) {
  check_call(w, n_rows, out_begin, out_end);
  if (n_rows == 0 || out_begin == out_end) return;
  active_ternary_kernels().gemm_i8[static_cast<int>(w.format)](w, xq, n_rows, out_begin, out_end,
                                                               out);
}

void ternary_gemm_f32(const TernaryMatrixView& w, const float* x, int64_t n_rows, int64_t out_begin,
                      int64_t out_end, float* out) {
  check_call(w, n_rows, out_begin, out_end);
  if (n_rows == 0 || out_begin == out_end) return;
  active_ternary_kernels().gemm_f32[static_cast<int>(w.format)](w, x, n_rows, out_begin, out_end,
                                                                out);
}

void ternary_gemv_i8(const TernaryMatrixView& w, const int8_t* xq, int64_t out_begin,
                     int64_t out_end, int32_t* out) {
  ternary_gemm_i8(w, xq, 1, out_begin, out_end, out);
}

void ternary_gemv_f32(const TernaryMatrixView& w, const float* x, int64_t out_begin,
                      int64_t out_end, float* out) {
  ternary_gemm_f32(w, x, 1, out_begin, out_end, out);
}

float ternary_quantize_row_i8(const float* x, int64_t n, int8_t* xq) {
  return active_ternary_kernels().quantize_row_i8(x, n, xq);
}

}  // namespace bit_ttt::cpu
