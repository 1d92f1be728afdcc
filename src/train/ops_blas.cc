#include "train/ops_blas.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>

#include "core/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"

namespace bit_ttt::train {
namespace {

// Below this many multiply-adds a product runs on the calling thread: waking the
// pool costs more than it saves.
constexpr int64_t kMinParallelMacs = 1 << 18;
// Smallest block of output rows/columns per thread (keeps sgemm's micro-kernels full).
constexpr int64_t kMinBlock = 16;

void gemm_call(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int64_t m, int64_t n, int64_t k,
               float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
               float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a, trans_b, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void gemm_call(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int64_t m, int64_t n, int64_t k,
               double alpha, const double* a, int64_t lda, const double* b, int64_t ldb,
               double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a, trans_b, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

// out[m, n] = alpha · op(a) · op(b) + beta · out, split over the pool along the
// larger of m and n (splitting n when m is small keeps both threads busy on the
// weight-gradient products, whose m is a narrow weight dimension).
template <typename T>
void gemm_parallel(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int64_t m, int64_t n,
                   int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb, T beta,
                   T* out) {
  if (m <= 0 || n <= 0) return;
  ThreadPool& pool = default_thread_pool();
  const bool serial = pool.n_threads() == 1 || m * n * k < kMinParallelMacs;
  if (serial) {
    gemm_call(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, out, n);
    return;
  }
  if (m >= n) {
    pool.parallel_for(m, kMinBlock, [&](int64_t begin, int64_t end) {
      const T* a_block = trans_a == CblasNoTrans ? a + begin * lda : a + begin;
      gemm_call(trans_a, trans_b, end - begin, n, k, alpha, a_block, lda, b, ldb, beta,
                out + begin * n, n);
    });
  } else {
    pool.parallel_for(n, kMinBlock, [&](int64_t begin, int64_t end) {
      const T* b_block = trans_b == CblasNoTrans ? b + begin : b + begin * ldb;
      gemm_call(trans_a, trans_b, m, end - begin, k, alpha, a, lda, b_block, ldb, beta, out + begin,
                n);
    });
  }
}

}  // namespace

void use_single_threaded_blas() {
  static std::atomic<bool> done{false};
  if (!done.load(std::memory_order_acquire)) {
    openblas_set_num_threads(1);
    done.store(true, std::memory_order_release);
  }
}

template <typename T>
void gemm_nt(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta) {
  gemm_parallel<T>(CblasNoTrans, CblasTrans, m, n, k, alpha, a, k, b, k, beta, out);
}

template <typename T>
void gemm_nn(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta) {
  gemm_parallel<T>(CblasNoTrans, CblasNoTrans, m, n, k, alpha, a, k, b, n, beta, out);
}

template <typename T>
void gemm_tn(T* out, const T* a, const T* b, int64_t m, int64_t n, int64_t k, T alpha, T beta) {
  gemm_parallel<T>(CblasTrans, CblasNoTrans, m, n, k, alpha, a, m, b, n, beta, out);
}

float dot(const float* a, const float* b, int64_t n) {
  return cpu::dot_f32(a, b, n);
}

double dot(const double* a, const double* b, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

#define BIT_TTT_INSTANTIATE(T)                                                       \
  template void gemm_nt<T>(T*, const T*, const T*, int64_t, int64_t, int64_t, T, T); \
  template void gemm_nn<T>(T*, const T*, const T*, int64_t, int64_t, int64_t, T, T); \
  template void gemm_tn<T>(T*, const T*, const T*, int64_t, int64_t, int64_t, T, T);
BIT_TTT_INSTANTIATE(float)
BIT_TTT_INSTANTIATE(double)
#undef BIT_TTT_INSTANTIATE

}  // namespace bit_ttt::train
