// Which SIMD instruction set the packed ternary kernels run on. The library is
// built for a baseline x86-64 (unless BIT_TTT_NATIVE) with the AVX2 and AVX-512
// kernels compiled separately (kernels/cpu/*_avx2.cc, *_avx512.cc); at run time
// CPUID + XGETBV decide what this CPU and OS can execute, and only that is used.
// Override with set_isa() or the environment variable BIT_TTT_ISA=scalar|avx2|avx512
// (read once, on the first active_isa() call).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bit_ttt::cpu {

enum class Isa { scalar, avx2, avx512 };  // ordered: each one needs the ones before it

std::string_view isa_name(Isa isa);
Isa parse_isa(std::string_view name);  // fails on an unknown name, listing the valid ones

struct CpuFeatures {
  bool avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false;
  bool os_saves_ymm = false;  // XCR0: the OS preserves YMM state across context switches
  bool os_saves_zmm = false;  // XCR0: ... and the opmask + ZMM state
};
const CpuFeatures& cpu_features();  // CPUID + XGETBV, queried once
std::string cpu_features_string();  // "avx2 fma f16c avx512f ..." for logs and benchmarks

// avx2 = AVX2 + FMA + F16C; avx512 = that + AVX-512 F/BW/VL, each with OS support,
// and the kernels compiled into this build.
bool isa_supported(Isa isa);
Isa detect_isa();                   // the best supported ISA
std::vector<Isa> supported_isas();  // ascending, always starts with scalar

// The ISA the kernels dispatch to: set_isa's choice, else BIT_TTT_ISA, else detect_isa().
// Throws bit_ttt::Error when BIT_TTT_ISA names an unknown or unsupported ISA, so
// call it once at startup (not first inside a worker thread).
Isa active_isa();
void set_isa(Isa isa);  // fails clearly when this CPU/build cannot run `isa`
void reset_isa();       // back to BIT_TTT_ISA / detection

// The rule behind BIT_TTT_ISA, separate so it can be tested on any machine:
// `request` must name an ISA not above `best`.
Isa resolve_isa_request(std::string_view request, Isa best);

}  // namespace bit_ttt::cpu
