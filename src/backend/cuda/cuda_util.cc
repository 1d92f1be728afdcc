#include "backend/cuda/cuda_util.h"

#include <algorithm>

#include "bit_ttt/error.h"

namespace bit_ttt::cuda {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    fail("CUDA error in ", what, ": ", cudaGetErrorName(status), " (", cudaGetErrorString(status),
         ")");
}

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    fail("cuBLAS error in ", what, ": ", cublasGetStatusName(status), " (",
         cublasGetStatusString(status), ")");
}

std::string use_first_gpu() {
  check(cudaSetDevice(0), "cudaSetDevice");
  cudaDeviceProp properties{};
  check(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties");
  return concat("cuda (", properties.name, ", sm_", properties.major, properties.minor, ", ",
                properties.totalGlobalMem / (kMiB * 1024.0), " GiB)");
}

std::shared_ptr<void> allocate(size_t n_bytes, const char* what, const char* hint) {
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, std::max<size_t>(n_bytes, 1));
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the error so later calls do not report it again
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    fail("out of GPU memory allocating ", what, ": needed ", n_bytes / kMiB, " MiB, ",
         free_bytes / kMiB, " MiB free of ", total_bytes / kMiB, " MiB (", hint, ")");
  }
  check(status, "cudaMalloc");
  return std::shared_ptr<void>(pointer, [](void* p) { cudaFree(p); });
}

}  // namespace bit_ttt::cuda
