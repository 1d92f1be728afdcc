#include "kernels/cpu/isa.h"

#include <atomic>
#include <cstdlib>

#include "bit_ttt/error.h"
#include "kernels/cpu/ternary_kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define BIT_TTT_X86 1
#endif

namespace bit_ttt::cpu {
namespace {

constexpr Isa kAllIsas[] = {Isa::scalar, Isa::avx2, Isa::avx512};

#if BIT_TTT_X86
// XGETBV(0) = XCR0, the state components the OS saves; asm because the
// _xgetbv intrinsic needs -mxsave, which this (baseline) file is not built with.
uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

CpuFeatures query_cpu_features() {
  CpuFeatures f;
#if BIT_TTT_X86
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.fma = (ecx >> 12) & 1;
  const bool osxsave = (ecx >> 27) & 1;
  f.avx = (ecx >> 28) & 1;
  f.f16c = (ecx >> 29) & 1;
  if (osxsave) {
    const uint64_t xcr0 = read_xcr0();
    f.os_saves_ymm = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
    f.os_saves_zmm = (xcr0 & 0xe6) == 0xe6;  // + opmask, ZMM_Hi256, Hi16_ZMM
  }
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = (ebx >> 5) & 1;
    f.avx512f = (ebx >> 16) & 1;
    f.avx512dq = (ebx >> 17) & 1;
    f.avx512bw = (ebx >> 30) & 1;
    f.avx512vl = (ebx >> 31) & 1;
    f.avx512vnni = (ecx >> 11) & 1;
  }
#endif
  return f;
}

bool cpu_runs(Isa isa) {
  const CpuFeatures& f = cpu_features();
  const bool avx2 = f.avx && f.avx2 && f.fma && f.f16c && f.os_saves_ymm;
  switch (isa) {
    case Isa::scalar:
      return true;
    case Isa::avx2:
      return avx2;
    case Isa::avx512:
      return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.os_saves_zmm;
  }
  return false;
}

bool compiled_in(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return ternary_kernel_table_scalar() != nullptr;
    case Isa::avx2:
      return ternary_kernel_table_avx2() != nullptr;
    case Isa::avx512:
      return ternary_kernel_table_avx512() != nullptr;
  }
  return false;
}

std::string isa_list(Isa up_to) {
  std::string names;
  for (Isa isa : kAllIsas) {
    if (isa > up_to) break;
    if (!names.empty()) names += ", ";
    names += isa_name(isa);
  }
  return names;
}

Isa isa_from_environment() {
  const char* request = std::getenv("BIT_TTT_ISA");
  if (request == nullptr || *request == '\0') return detect_isa();
  try {
    return resolve_isa_request(request, detect_isa());
  } catch (const Error& error) {
    fail("BIT_TTT_ISA=", request, ": ", error.what());
  }
}

std::atomic<int> g_override{-1};  // an Isa set by set_isa, or -1

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "?";
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : kAllIsas)
    if (name == isa_name(isa)) return isa;
  fail("unknown ISA '", name, "' (valid: ", isa_list(Isa::avx512), ")");
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = query_cpu_features();
  return features;
}

std::string cpu_features_string() {
  const CpuFeatures& f = cpu_features();
  std::string text;
  auto add = [&](bool present, const char* name) {
    if (!present) return;
    if (!text.empty()) text += ' ';
    text += name;
  };
  add(f.avx, "avx");
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512dq, "avx512dq");
  add(f.avx512vnni, "avx512vnni");
  add(f.os_saves_ymm, "os:ymm");
  add(f.os_saves_zmm, "os:zmm");
  return text.empty() ? "none" : text;
}

bool isa_supported(Isa isa) {
  return cpu_runs(isa) && compiled_in(isa);
}

Isa detect_isa() {
  Isa best = Isa::scalar;
  for (Isa isa : kAllIsas)
    if (isa_supported(isa)) best = isa;
  return best;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : kAllIsas)
    if (isa_supported(isa)) isas.push_back(isa);
  return isas;
}

Isa resolve_isa_request(std::string_view request, Isa best) {
  const Isa isa = parse_isa(request);
  if (isa > best)
    fail("this CPU cannot run ", isa_name(isa), " kernels (supported: ", isa_list(best), ")");
  return isa;
}

Isa active_isa() {
  const int chosen = g_override.load(std::memory_order_acquire);
  if (chosen >= 0) return static_cast<Isa>(chosen);
  // A throwing initializer leaves the static uninitialized: the error repeats on
  // every call instead of silently falling back.
  static const Isa from_environment = isa_from_environment();
  return from_environment;
}

void set_isa(Isa isa) {
  if (!isa_supported(isa))
    fail("cannot use ", isa_name(isa), " kernels: this CPU supports only ", isa_list(detect_isa()));
  g_override.store(static_cast<int>(isa), std::memory_order_release);
}

void reset_isa() {
  g_override.store(-1, std::memory_order_release);
}

}  // namespace bit_ttt::cpu
