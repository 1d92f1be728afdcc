// The CUDA implementation of the Backend seam (built when nvcc is found). Only
// backend/devices.cc calls these; the rest of the engine goes through backend_for.
#pragma once

#include <optional>
#include <string>

#include "backend/backend.h"

namespace bit_ttt::cuda {

// Why CUDA cannot be used here ("" when it can): no device, driver too old, ...
std::string unavailable_reason();
// The process-wide backend of GPU 0; fails with unavailable_reason() otherwise.
Backend& backend();
std::optional<DeviceMemoryInfo> memory_info();

}  // namespace bit_ttt::cuda
