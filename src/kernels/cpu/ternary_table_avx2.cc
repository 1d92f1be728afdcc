// The AVX2 entry of the dispatch table (nullptr when built without the AVX2 flags).
#include "kernels/cpu/ternary_kernel_table.h"

namespace bit_ttt::cpu {

#if defined(__AVX2__) && defined(__FMA__)
namespace {
const TernaryKernelTable kTable = {
    "avx2",
    {ternary_gemm_i8_i2_avx2, ternary_gemm_i8_tq1_avx2},
    {ternary_gemm_f32_i2_avx2, ternary_gemm_f32_tq1_avx2},
    ternary_quantize_row_i8_avx2,
};
}  // namespace
const TernaryKernelTable* ternary_kernel_table_avx2() {
  return &kTable;
}
#else
const TernaryKernelTable* ternary_kernel_table_avx2() {
  return nullptr;
}
#endif

}  // namespace bit_ttt::cpu
