#include "train/blas_core.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/log.h"
#include "kernels/cpu/isa.h"

namespace bit_ttt {

void rerun_with_fast_blas_if_needed(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice (or our re-run)
  // Looked up at run time: other BLAS libraries do not have it.
  using CoreNameFn = char* (*)();
  const auto core_name = reinterpret_cast<CoreNameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (core_name == nullptr) return;
  const std::string picked = core_name() ? core_name() : "";
  if (picked != "Prescott" && picked != "Core2" && picked != "Nehalem") return;
  const char* wanted = cpu::isa_supported(cpu::Isa::avx512) ? "SkylakeX"
                       : cpu::isa_supported(cpu::Isa::avx2) ? "Haswell"
                                                            : nullptr;
  if (wanted == nullptr) return;
  setenv("OPENBLAS_CORETYPE", wanted, 1);
  execv("/proc/self/exe", argv);
  log_warning("OpenBLAS chose its slow '", picked,
              "' kernels on this CPU; set OPENBLAS_CORETYPE=", wanted, " for fast training");
}

}  // namespace bit_ttt
