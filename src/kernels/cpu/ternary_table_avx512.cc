// The AVX-512 entry of the dispatch table (nullptr when built without the AVX-512 flags).
#include "kernels/cpu/ternary_kernel_table.h"

namespace bit_ttt::cpu {

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__FMA__)
namespace {
const TernaryKernelTable kTable = {
    "avx512",
    {ternary_gemm_i8_i2_avx512, ternary_gemm_i8_tq1_avx512},
    {ternary_gemm_f32_i2_avx512, ternary_gemm_f32_tq1_avx512},
    ternary_quantize_row_i8_avx512,
};
}  // namespace
// The same kernels with the AVX512-VNNI int8 × i2 kernel (vpdpbusd).
const TernaryKernelTable kVnniTable = {
    "avx512vnni",
    {ternary_gemm_i8_i2_avx512vnni, ternary_gemm_i8_tq1_avx512},
    {ternary_gemm_f32_i2_avx512, ternary_gemm_f32_tq1_avx512},
    ternary_quantize_row_i8_avx512,
};
const TernaryKernelTable* ternary_kernel_table_avx512() {
  return &kTable;
}
const TernaryKernelTable* ternary_kernel_table_avx512vnni() {
  return &kVnniTable;
}
#else
const TernaryKernelTable* ternary_kernel_table_avx512() {
  return nullptr;
}
const TernaryKernelTable* ternary_kernel_table_avx512vnni() {
  return nullptr;
}
#endif

}  // namespace bit_ttt::cpu
