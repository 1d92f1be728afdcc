// Dense products and vector primitives of the training ops, over float (the
// trainer) and double (the gradient checks). Row-major throughout.
//
//   gemm_nt: out[m, n] = alpha · a[m, k] · b[n, k]ᵀ + beta · out    (y  = x · Wᵀ)
//   gemm_nn: out[m, n] = alpha · a[m, k] · b[k, n]   + beta · out    (dx = dy · W)
//   gemm_tn: out[m, n] = alpha · a[k, m]ᵀ · b[k, n]  + beta · out    (dW += dyᵀ · x)
//
// Threading, decided deliberately: OpenBLAS (Debian's pthread build) is switched
// to ONE thread and each thread of our pool (default_thread_pool) calls it on its
// own block of the output. OpenBLAS's own workers busy-wait after each call; if
// they ran next to our pool, the two sets of spinning threads would fight over
// the same cores at every switch between a GEMM and an elementwise op. With one
// pool there is one set of threads, never a GEMM concurrent with another op, and
// the thread count is set_default_thread_count alone. Each output element is
// computed by exactly one sgemm call, so the split never mixes partial sums.
#pragma once

#include <cstdint>

namespace bit_ttt::train {

// Puts OpenBLAS in single-threaded mode (idempotent; called by forward_backward).
void use_single_threaded_blas();

template <typename T>
void gemm_nt(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta);
template <typename T>
void gemm_nn(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta);
template <typename T>
void gemm_tn(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta);

// Σ a[i]·b[i]. The float version is the inference kernel's (cpu::dot_f32), so the
// training forward sums in the same order as BitLlama::forward.
float dot(const float* a, const float* b, int64_t n);
double dot(const double* a, const double* b, int64_t n);

// y += alpha · x (vectorised by the compiler: no reduction).
template <typename T>
inline void axpy(T* y, T alpha, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace bit_ttt::train
