#include "core/thread_pool.h"

#include <algorithm>
#include <memory>

#include "bit_ttt/error.h"
#include "core/check.h"

namespace bit_ttt {

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::run_chunks(uint32_t job_id) {
  while (true) {
    uint64_t claim = claim_.load(std::memory_order_acquire);
    if (static_cast<uint32_t>(claim >> 32) != job_id) return;
    // Read before the claim; only used when the claim proves the job is still current.
    const int n_chunks = n_chunks_.load(std::memory_order_relaxed);
    const int64_t n = job_n_.load(std::memory_order_relaxed);
    const ChunkFn fn = job_.load(std::memory_order_relaxed);
    const void* context = job_context_.load(std::memory_order_relaxed);
    const uint32_t chunk = static_cast<uint32_t>(claim & 0xffffffffu);
    if (chunk >= static_cast<uint32_t>(n_chunks)) return;  // also kClosedChunk
    // If a field above was already the next job's, run() closed this claim before
    // writing it: the fence pairs with run()'s, so the exchange below then fails.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel)) continue;
    const int64_t begin = n * chunk / n_chunks;
    const int64_t end = n * (chunk + 1) / n_chunks;
    if (begin < end) fn(context, begin, end);
    n_done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  while (true) {
    // Spin for a short while (cheap wake-up during decode), then sleep.
    uint64_t current = generation_.load(std::memory_order_acquire);
    for (int spin = 0; current == seen && spin < 20000; ++spin) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
      current = generation_.load(std::memory_order_acquire);
    }
    if (current == seen) {
      // Announce the sleep before re-checking under the mutex: run() reads
      // n_sleeping_ after bumping the generation (both seq_cst), so either it sees
      // this sleeper and notifies, or this check sees the new generation.
      std::unique_lock<std::mutex> lock(mutex_);
      n_sleeping_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen || stopping_.load(); });
      n_sleeping_.fetch_sub(1);
      current = generation_.load();
    }
    seen = current;
    if (stopping_.load()) return;
    run_chunks(static_cast<uint32_t>(claim_.load(std::memory_order_acquire) >> 32));
  }
}

void ThreadPool::run(int64_t n, int64_t grain, ChunkFn fn, const void* context) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t max_chunks = std::max<int64_t>(1, n / grain);
  const int n_chunks = static_cast<int>(std::min<int64_t>(n_threads_, max_chunks));
  if (n_chunks == 1) {
    fn(context, 0, n);
    return;
  }
  std::lock_guard<std::mutex> serial(serial_);
  const uint32_t job_id = ++job_id_;
  // Close the claim before touching the job's fields. Otherwise a worker that read
  // the last job's exhausted claim (job, n) and then this job's larger n_chunks
  // could still claim chunk n of the last job: it would run a stale chunk and
  // count it in this job's n_done_, which then never equals n_chunks (a hang seen
  // with 16 cores).
  claim_.store((uint64_t{job_id} << 32) | kClosedChunk, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  job_.store(fn, std::memory_order_relaxed);
  job_context_.store(context, std::memory_order_relaxed);
  job_n_.store(n, std::memory_order_relaxed);
  n_chunks_.store(n_chunks, std::memory_order_relaxed);
  n_done_.store(0, std::memory_order_relaxed);
  claim_.store(uint64_t{job_id} << 32, std::memory_order_release);  // publishes the fields
  generation_.fetch_add(1);                                         // seq_cst: see worker_loop
  if (n_sleeping_.load() > 0) {  // the mutex and the wake-up only when a worker sleeps
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  run_chunks(job_id);
  // Every chunk is claimed; wait for those still running on workers. Spin briefly,
  // then yield so that a descheduled worker gets the core back quickly.
  for (int spin = 0; n_done_.load(std::memory_order_acquire) != n_chunks; ++spin) {
    if (spin < 4000) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

namespace {
std::mutex g_default_pool_mutex;
std::unique_ptr<ThreadPool> g_default_pool;
std::atomic<ThreadPool*> g_default_pool_pointer{nullptr};  // lock-free fast path
}  // namespace

int hardware_thread_count() {
  return std::max(1u, std::thread::hardware_concurrency());
}

void set_default_thread_count(int n_threads) {
  if (n_threads < 1) fail("thread count must be at least 1, got ", n_threads);
  std::lock_guard<std::mutex> lock(g_default_pool_mutex);
  if (!g_default_pool || g_default_pool->n_threads() != n_threads) {
    g_default_pool_pointer.store(nullptr);
    g_default_pool = std::make_unique<ThreadPool>(n_threads);
    g_default_pool_pointer.store(g_default_pool.get(), std::memory_order_release);
  }
}

ThreadPool& default_thread_pool() {
  // Called several times per op during decode: no mutex once the pool exists.
  if (ThreadPool* pool = g_default_pool_pointer.load(std::memory_order_acquire)) return *pool;
  std::lock_guard<std::mutex> lock(g_default_pool_mutex);
  if (!g_default_pool) {
    g_default_pool = std::make_unique<ThreadPool>(hardware_thread_count());
    g_default_pool_pointer.store(g_default_pool.get(), std::memory_order_release);
  }
  return *g_default_pool;
}

}  // namespace bit_ttt
