// Sampler::sample must not allocate once its scratch has grown to the vocab:
// it runs once per generated token. Counted by replacing global operator new
// for this test binary; counting is off except inside the measured region.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "bit_ttt/sampler.h"

namespace {
thread_local bool counting = false;
thread_local long n_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  if (counting) ++n_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace bit_ttt {
namespace {

TEST(SamplerAllocationTest, WarmSamplerDoesNotAllocate) {
  const size_t n_vocab = 32000;
  std::vector<float> logits(n_vocab);
  for (size_t i = 0; i < n_vocab; ++i) logits[i] = static_cast<float>((i * 7919) % 1000) / 100.0f;
  const std::vector<int32_t> history = {1, 2, 3, 2, 500};

  struct Setup {
    const char* name;
    SamplingParams params;
  };
  SamplingParams all;
  all.top_k = 50;
  all.top_p = 0.9f;
  all.min_p = 0.05f;
  all.repetition_penalty = 1.2f;
  all.frequency_penalty = 0.5f;
  all.presence_penalty = 0.25f;
  SamplingParams top_p_only;
  top_p_only.top_p = 0.95f;
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  greedy.repetition_penalty = 1.3f;
  for (const Setup& setup :
       {Setup{"all", all}, Setup{"top_p", top_p_only}, Setup{"greedy", greedy}}) {
    SCOPED_TRACE(setup.name);
    Sampler sampler(setup.params);
    sampler.sample(logits, history);  // first call sizes the scratch
    counting = true;
    for (int i = 0; i < 20; ++i) sampler.sample(logits, history, i % 2 == 0 ? -1 : 31000);
    counting = false;
    EXPECT_EQ(n_allocations, 0);
    n_allocations = 0;
  }
}

}  // namespace
}  // namespace bit_ttt
