// OpenBLAS (0.3.21 in Debian 12) picks its GEMM kernels from the CPU model number
// and falls back to its SSE3 "Prescott" kernels on CPUs it does not know — e.g.
// a VM reporting a generic "Intel Xeon Processor" — which makes training about
// 5x slower. The choice is made when the library loads, so the only fix is the
// environment variable OPENBLAS_CORETYPE before the process starts.
#pragma once

namespace bit_ttt {

// When OpenBLAS fell back like that on a CPU with AVX2 / AVX-512 and the user did
// not set OPENBLAS_CORETYPE, re-runs this program (execv /proc/self/exe) with the
// matching core type. Returns only when nothing needed doing or the re-run failed
// (then it logs a warning with the variable to set).
void rerun_with_fast_blas_if_needed(char** argv);

}  // namespace bit_ttt
