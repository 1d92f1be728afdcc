// ISA detection and the override rules (set_isa, BIT_TTT_ISA).
#include <gtest/gtest.h>

#include <cstdlib>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/ternary_kernels.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using cpu::Isa;
using testing::contains;
using testing::error_of;

TEST(TernaryIsa, NamesRoundTrip) {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    EXPECT_EQ(cpu::parse_isa(cpu::isa_name(isa)), isa);
  EXPECT_TRUE(contains(error_of([] { cpu::parse_isa("sse9"); }),
                       "unknown ISA 'sse9' (valid: scalar, avx2, avx512)"));
}

TEST(TernaryIsa, DetectionIsConsistentWithCpuid) {
  const cpu::CpuFeatures& f = cpu::cpu_features();
  const Isa best = cpu::detect_isa();
  if (best >= Isa::avx2) {
    EXPECT_TRUE(f.avx2 && f.fma && f.f16c && f.os_saves_ymm);
  }
  if (best == Isa::avx512) {
    EXPECT_TRUE(f.avx512f && f.avx512bw && f.avx512vl && f.os_saves_zmm);
  }
  if (f.avx2 && f.fma && f.f16c && f.os_saves_ymm) {
    EXPECT_GE(best, Isa::avx2);
  }
  EXPECT_TRUE(cpu::isa_supported(Isa::scalar));
}

TEST(TernaryIsa, RequestsAboveWhatTheCpuRunsFailClearly) {
  EXPECT_EQ(cpu::resolve_isa_request("avx2", Isa::avx512), Isa::avx2);
  EXPECT_EQ(cpu::resolve_isa_request("scalar", Isa::scalar), Isa::scalar);
  EXPECT_TRUE(contains(error_of([] { cpu::resolve_isa_request("avx512", Isa::avx2); }),
                       "this CPU cannot run avx512 kernels (supported: scalar, avx2)"));
  EXPECT_TRUE(contains(error_of([] { cpu::resolve_isa_request("avx2", Isa::scalar); }),
                       "(supported: scalar)"));
  EXPECT_TRUE(contains(error_of([] { cpu::resolve_isa_request("neon", Isa::avx512); }),
                       "unknown ISA 'neon'"));
}

TEST(TernaryIsa, SetIsaOverridesAndResets) {
  const Isa before = cpu::active_isa();
  for (Isa isa : cpu::supported_isas()) {
    cpu::set_isa(isa);
    EXPECT_EQ(cpu::active_isa(), isa);
    // avx512 runs the avx512vnni table on a CPU with AVX512-VNNI.
    EXPECT_TRUE(std::string(cpu::active_ternary_kernels().name).starts_with(cpu::isa_name(isa)));
  }
  for (Isa isa : {Isa::avx2, Isa::avx512}) {
    if (cpu::isa_supported(isa)) continue;
    EXPECT_TRUE(contains(error_of([&] { cpu::set_isa(isa); }), "this CPU supports only"));
    EXPECT_TRUE(contains(error_of([&] { cpu::ternary_kernels(isa); }), "cannot use"));
  }
  cpu::reset_isa();
  EXPECT_EQ(cpu::active_isa(), before);
  if (std::getenv("BIT_TTT_ISA") == nullptr) {
    EXPECT_EQ(before, cpu::detect_isa());
  }
}

}  // namespace
}  // namespace bit_ttt
