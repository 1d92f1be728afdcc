// The persistent thread pool: every index of a parallel_for runs exactly once and
// the call returns only when all have run, also when consecutive jobs have
// different chunk counts (a late worker must never claim a finished job's chunk).
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace bit_ttt {
namespace {

TEST(ThreadPool, EveryIndexOnceOverManyJobsOfChangingShape) {
  for (int n_threads : {2, 4, 16}) {
    ThreadPool pool(n_threads);
    std::vector<std::atomic<int>> hits(4096);
    for (int job = 0; job < 3000; ++job) {
      // Alternate few and many chunks: the shape change is where a stale claim
      // of the previous job could slip into this one.
      const int64_t n = job % 2 ? 4096 : 2 + job % 7;
      for (int64_t i = 0; i < n; ++i) hits[static_cast<size_t>(i)].store(0);
      pool.parallel_for(n, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1)
            << "threads " << n_threads << " job " << job << " index " << i;
    }
  }
}

TEST(ThreadPool, SingleChunkRunsInline) {
  ThreadPool pool(4);
  int64_t covered = 0;
  pool.parallel_for(10, 100, [&](int64_t begin, int64_t end) { covered += end - begin; });
  EXPECT_EQ(covered, 10);
}

}  // namespace
}  // namespace bit_ttt
