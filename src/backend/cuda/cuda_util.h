// Error checks and device allocation shared by the CUDA backend and the CUDA
// trainer (built when nvcc is found).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <string>

namespace bit_ttt::cuda {

inline constexpr double kMiB = 1024.0 * 1024.0;

// Fails with the CUDA (cuBLAS) error's name and text and `what` was being done.
void check(cudaError_t status, const char* what);
void check_cublas(cublasStatus_t status, const char* what);

// Makes GPU 0 current and returns "cuda (<name>, sm_XY, N GiB)".
std::string use_first_gpu();

// Device memory owned by a shared_ptr. Out of memory fails saying what was asked,
// what was free of the total, and `hint` (what the user can do about it).
std::shared_ptr<void> allocate(size_t n_bytes, const char* what, const char* hint);

}  // namespace bit_ttt::cuda
