// Which devices this build and machine can use, and the backend of each.
#include "backend/backend.h"
#include "bit_ttt/error.h"
#ifdef BIT_TTT_HAVE_CUDA
#include "backend/cuda/cuda_backend.h"
#endif

namespace bit_ttt {

bool built_with_cuda() {
#ifdef BIT_TTT_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::string device_unavailable_reason(Device device) {
  if (device == Device::cpu) return "";
#ifdef BIT_TTT_HAVE_CUDA
  return cuda::unavailable_reason();
#else
  return "this build of Bit-TTT has no CUDA backend (nvcc was not found when it was built)";
#endif
}

bool device_available(Device device) {
  return device_unavailable_reason(device).empty();
}

std::optional<DeviceMemoryInfo> device_memory_info(Device device) {
#ifdef BIT_TTT_HAVE_CUDA
  if (device == Device::cuda) return cuda::memory_info();
#endif
  (void)device;
  return std::nullopt;
}

Backend& backend_for(Device device) {
  if (device == Device::cpu) return cpu_backend();
#ifdef BIT_TTT_HAVE_CUDA
  return cuda::backend();
#else
  fail("device 'cuda' is not available: ", device_unavailable_reason(device),
       " (use --device cpu)");
#endif
}

Device parse_device(std::string_view name) {
  if (name == "cpu") return Device::cpu;
  if (name == "cuda") return Device::cuda;
  fail("unknown device '", name, "' (valid devices: cpu, cuda)");
}

}  // namespace bit_ttt
