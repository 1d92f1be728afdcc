// A persistent pool of worker threads for data-parallel loops. Workers spin
// briefly before sleeping, because decode issues ~50 small parallel loops per
// token and waking sleeping threads each time would cost more than the work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace bit_ttt {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads total, including the caller
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  // Calls fn(begin, end) over contiguous chunks covering [0, n), at least `grain`
  // items per chunk. Chunk boundaries depend only on n, grain and n_threads, so
  // results never depend on scheduling. Chunks are claimed, not assigned: the
  // caller takes any chunk a worker has not started, so a worker descheduled on a
  // busy machine delays nothing (it would otherwise stall every decode step).
  template <typename Fn>
  void parallel_for(int64_t n, int64_t grain, const Fn& fn) {
    // Type-erased without std::function so no allocation happens per call.
    run(
        n, grain,
        [](const void* context, int64_t begin, int64_t end) {
          (*static_cast<const Fn*>(context))(begin, end);
        },
        &fn);
  }

 private:
  using ChunkFn = void (*)(const void* context, int64_t begin, int64_t end);
  void run(int64_t n, int64_t grain, ChunkFn fn, const void* context);
  void worker_loop();
  // Claims and runs chunks of job `job_id` until none is left.
  void run_chunks(uint32_t job_id);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};  // bumped per job: wakes the workers
  std::atomic<bool> stopping_{false};
  std::atomic<int> n_sleeping_{0};  // workers waiting on wake_
  // The job being run. claim_ = (job id << 32) | next unclaimed chunk: a chunk is
  // taken by a compare-exchange, which fails once the job has changed, so a late
  // worker never runs a chunk of a finished job. The fields are atomics because a
  // late worker may read them while the next job is being set up (it then
  // discards them when its claim fails).
  std::atomic<uint64_t> claim_{0};
  // The chunk part of claim_ while run() writes a new job's fields: never claimable.
  static constexpr uint64_t kClosedChunk = 0xffffffffu;
  std::atomic<int> n_done_{0};
  std::atomic<ChunkFn> job_{nullptr};
  std::atomic<const void*> job_context_{nullptr};
  std::atomic<int64_t> job_n_{0};
  std::atomic<int> n_chunks_{0};
  uint32_t job_id_ = 0;  // the caller's counter (under serial_)
  std::mutex serial_;    // one parallel_for at a time per pool
};

// The process-wide pool used by the CPU backend (threads = hardware concurrency
// unless set_default_thread_count chose otherwise). Changing the count replaces
// the pool: do it while no model is running.
ThreadPool& default_thread_pool();
void set_default_thread_count(int n_threads);
int hardware_thread_count();

}  // namespace bit_ttt
