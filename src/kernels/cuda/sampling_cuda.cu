// The sampling pipeline of bit_ttt/sampler.h on the GPU, for one position whose
// logits were just written by the LM head: one block does every stage, so a decode
// step sends back only the chosen id. It makes the CPU Sampler's choice:
//   - penalties and greedy are the CPU's float operations, bit for bit;
//   - the softmax weights are the CPU's doubles (exp may differ in the last bit);
//   - top-k and top-p find the last kept candidate of the rank order (logit
//     descending, id ascending) by a radix select over 64-bit rank keys instead of
//     sorting. Top-p sums fixed-point masses with integer atomics, so the result
//     never depends on thread timing;
//   - the draw walks the kept ids in ascending order, as the CPU does, with the
//     block's partial sums in a fixed order.
// Sums in another order than the CPU's can only change a choice when the random
// number or the top-p target falls within rounding of a boundary: ~1e-16 relative
// per double sum, and for top-p the fixed point's n·2^-(64 − bit_width(n)) of the
// total mass (3e-11 at n = 16K).
#include <cfloat>
#include <cmath>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace bit_ttt::cuda {
namespace {

constexpr int kSampleThreads = 1024;
constexpr int kDigits = 256;  // radix of the select: 8 bits of the key per pass

__device__ __forceinline__ float sanitize_logit(float logit) {
  return isnan(logit) ? -INFINITY : fminf(logit, FLT_MAX);
}

// Larger key = ranks before: the logit's bits made order-preserving as an unsigned
// number (−0 first made +0, which the CPU's == ties with it), then the id inverted
// so that the lower id wins a tie. Unique per id.
__device__ __forceinline__ uint64_t rank_key(float logit, int32_t id) {
  if (logit == 0.0f) logit = 0.0f;
  uint32_t bits = __float_as_uint(logit);
  bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  return (static_cast<uint64_t>(bits) << 32) | static_cast<uint32_t>(~static_cast<uint32_t>(id));
}

// Top-p masses in fixed point: weight · scale, where scale = 2^(63 − bit_width(n))
// keeps the sum of n weights of at most 1 below 2^63.
__device__ __forceinline__ uint64_t mass_units(double weight, double scale) {
  return __double2ull_rn(weight * scale);
}

struct Best {
  float logit;
  int32_t id;
};
__device__ __forceinline__ bool ranks_before(Best a, Best b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}
__device__ __forceinline__ Best warp_best(Best v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    const Best other{__shfl_xor_sync(0xffffffffu, v.logit, offset),
                     __shfl_xor_sync(0xffffffffu, v.id, offset)};
    if (ranks_before(other, v)) v = other;
  }
  return v;
}

// Inclusive prefix sum over a warp in lane order: a fixed order, so a float sum is
// deterministic (and an integer one exact).
template <typename T>
__device__ __forceinline__ T warp_inclusive_sum(T v) {
  const int lane = threadIdx.x % kWarp;
  for (int offset = 1; offset < kWarp; offset *= 2) {
    const T other = __shfl_up_sync(0xffffffffu, v, offset);
    if (lane >= offset) v += other;
  }
  return v;
}

struct SampleShared {
  uint32_t digit_count[kDigits];
  uint64_t digit_metric[kDigits];
  double chunk_mass[kSampleThreads];  // becomes the mass before each thread's chunk
  Best warp_best[kWarp];
  float warp_float[kWarp];
  int warp_int[kWarp];
  uint64_t prefix;
  uint64_t before;
  uint32_t chosen_count;
  uint64_t total_units;
  double total;
  int answer;
  int last_positive;
};

// Candidates are the allowed ids with a finite (sanitised, penalised) logit.
__device__ __forceinline__ bool is_candidate(const float* work, int32_t i) {
  return work[i] != -INFINITY;
}

// Warp 0 picks the digit of one select pass: the best (highest) nonempty digit at
// which before + the metric of the digits down to it `reaches` the target, or the
// last nonempty digit when none does (rounding kept the range short). Lane l owns
// digits 255 − 8l down to 248 − 8l, so lane order is rank order; the lane that
// holds the answer walks its eight digits.
template <typename Reaches>
__device__ void choose_digit(uint64_t prefix, int shift, Reaches reaches, SampleShared& sh) {
  constexpr int kPerLane = kDigits / kWarp;
  const int lane = threadIdx.x;
  const int top = kDigits - 1 - lane * kPerLane;
  uint64_t lane_metric = 0;
  uint32_t lane_count = 0;
  for (int j = 0; j < kPerLane; ++j) {
    lane_metric += sh.digit_metric[top - j];
    lane_count += sh.digit_count[top - j];
  }
  const uint64_t inclusive = warp_inclusive_sum(lane_metric);
  uint64_t before = sh.before + inclusive - lane_metric;
  const unsigned reached =
      __ballot_sync(0xffffffffu, lane_count > 0 && reaches(before + lane_metric));
  const unsigned nonempty = __ballot_sync(0xffffffffu, lane_count > 0);
  const int owner = reached ? __ffs(reached) - 1 : 31 - __clz(nonempty);
  if (lane != owner) return;
  int chosen = -1;
  for (int d = top; d > top - kPerLane; --d) {
    if (sh.digit_count[d] == 0) continue;
    if (chosen >= 0) before += sh.digit_metric[chosen];  // passed over
    chosen = d;
    if (reaches(before + sh.digit_metric[d])) break;
  }
  sh.before = before;
  sh.prefix = prefix | (static_cast<uint64_t>(chosen) << shift);
  sh.chosen_count = sh.digit_count[chosen];
}

// The key of the candidate at which the running metric, summed best-first over the
// candidates with key >= `lower`, first `reaches` its target (the last candidate
// when rounding keeps the whole range short of it). One pass per 8 bits of the key
// counts and sums the candidates of the current key prefix by their next digit and
// keeps one digit; once that digit holds a single candidate, one more pass finds
// its key. Metric sums are integers, so their order cannot change the result.
template <typename Metric, typename Reaches>
__device__ uint64_t select_key(const float* work, int32_t n, uint64_t lower, Metric metric,
                               Reaches reaches, SampleShared& sh) {
  uint64_t prefix = 0, mask = 0;
  if (threadIdx.x == 0) sh.before = 0;
  for (int shift = 56; shift >= 0; shift -= 8) {
    for (int d = threadIdx.x; d < kDigits; d += blockDim.x) {
      sh.digit_count[d] = 0;
      sh.digit_metric[d] = 0;
    }
    __syncthreads();
    for (int32_t i = threadIdx.x; i < n; i += blockDim.x) {
      if (!is_candidate(work, i)) continue;
      const uint64_t key = rank_key(work[i], i);
      if (key < lower || (key & mask) != prefix) continue;
      const int digit = static_cast<int>((key >> shift) & (kDigits - 1));
      atomicAdd(&sh.digit_count[digit], 1u);
      atomicAdd(reinterpret_cast<unsigned long long*>(&sh.digit_metric[digit]),
                static_cast<unsigned long long>(metric(i)));
    }
    __syncthreads();
    if (threadIdx.x < kWarp) choose_digit(prefix, shift, reaches, sh);
    __syncthreads();
    prefix = sh.prefix;
    mask |= static_cast<uint64_t>(kDigits - 1) << shift;
    if (sh.chosen_count == 1 && shift > 0) {  // the rest of the key is that candidate's
      __syncthreads();  // every thread has read sh.prefix before it is overwritten
      for (int32_t i = threadIdx.x; i < n; i += blockDim.x) {
        if (!is_candidate(work, i)) continue;
        const uint64_t key = rank_key(work[i], i);
        if (key >= lower && (key & mask) == prefix) sh.prefix = key;
      }
      __syncthreads();
      return sh.prefix;
    }
  }
  return prefix;
}

__global__ void __launch_bounds__(kSampleThreads)
    sample_kernel(const float* logits, const int32_t* window, int32_t n_window, SampleArgs a,
                  double mass_scale, float* work, double* weights, int32_t* counts,
                  int32_t* out_token) {
  __shared__ SampleShared sh;
  const int32_t n = a.n_allowed;
  const int tid = threadIdx.x, n_threads = blockDim.x;
  for (int32_t i = tid; i < n; i += n_threads) work[i] = sanitize_logit(logits[i]);
  __syncthreads();

  // 1. Penalties. Each window id is counted; the thread whose exchange takes the
  // count back to 0 applies that id's penalty once, and the counts end at 0 again.
  if (n_window > 0) {
    for (int32_t j = tid; j < n_window; j += n_threads)
      if (window[j] < n) atomicAdd(&counts[window[j]], 1);
    __syncthreads();
    for (int32_t j = tid; j < n_window; j += n_threads) {
      const int32_t id = window[j];
      if (id >= n) continue;
      const int count = atomicExch(&counts[id], 0);
      if (count == 0) continue;
      float logit = work[id];
      // _rn: a plain multiply may be fused into the subtraction below, one rounding short.
      if (a.repetition != 1.0f)
        logit = logit > 0.0f ? logit / a.repetition : __fmul_rn(logit, a.repetition);
      // A penalty can push a logit past FLT_MAX (repetition below 1): clamp again.
      work[id] = sanitize_logit(logit - fmaf(static_cast<float>(count), a.frequency, a.presence));
    }
    __syncthreads();
  }

  // 2. Greedy: the best by rank (lowest id on ties); none when all are −inf.
  if (a.temperature <= 0.0f) {
    Best best{-INFINITY, 0x7fffffff};
    for (int32_t i = tid; i < n; i += n_threads)
      if (work[i] > best.logit) best = {work[i], i};
    best = warp_best(best);
    if (tid % kWarp == 0) sh.warp_best[tid / kWarp] = best;
    __syncthreads();
    if (tid < kWarp) {
      best =
          tid < (n_threads + kWarp - 1) / kWarp ? sh.warp_best[tid] : Best{-INFINITY, 0x7fffffff};
      best = warp_best(best);
      if (tid == 0) *out_token = best.logit == -INFINITY ? -1 : best.id;
    }
    return;
  }

  // 3. Softmax weights relative to the best logit, as the CPU computes them.
  float max_logit = -INFINITY;
  int n_candidates = 0;
  for (int32_t i = tid; i < n; i += n_threads) {
    if (!is_candidate(work, i)) continue;
    max_logit = fmaxf(max_logit, work[i]);
    ++n_candidates;
  }
  max_logit = block_reduce(
      max_logit, sh.warp_float, [](float v) { return warp_max(v); }, -INFINITY);
  n_candidates = block_reduce(n_candidates, sh.warp_int, [](int v) { return warp_sum(v); });
  if (n_candidates == 0) {
    if (tid == 0) *out_token = -1;
    return;
  }
  const double inv_temperature = 1.0 / static_cast<double>(a.temperature);
  for (int32_t i = tid; i < n; i += n_threads) {
    const double gap = static_cast<double>(work[i]) - static_cast<double>(max_logit);
    weights[i] = is_candidate(work, i) ? exp(gap * inv_temperature) : 0.0;
  }
  __syncthreads();

  // 4. Top-k and top-p: the kept candidates are those with key >= lowest_kept.
  uint64_t lowest_kept = 0;
  if (a.top_k > 0 && a.top_k < n_candidates) {
    const uint64_t k = static_cast<uint64_t>(a.top_k);
    lowest_kept = select_key(
        work, n, 0, [](int32_t) { return uint64_t{1}; }, [k](uint64_t c) { return c >= k; }, sh);
  }
  if (a.top_p < 1.0f) {
    if (tid == 0) sh.total_units = 0;
    __syncthreads();
    uint64_t total = 0;  // of the top-k survivors, in mass units
    for (int32_t i = tid; i < n; i += n_threads)
      if (is_candidate(work, i) && rank_key(work[i], i) >= lowest_kept)
        total += mass_units(weights[i], mass_scale);
    atomicAdd(reinterpret_cast<unsigned long long*>(&sh.total_units),
              static_cast<unsigned long long>(total));
    __syncthreads();
    const double target = static_cast<double>(a.top_p) * static_cast<double>(sh.total_units);
    lowest_kept = select_key(
        work, n, lowest_kept,
        [weights, mass_scale](int32_t i) { return mass_units(weights[i], mass_scale); },
        [target](uint64_t mass) { return static_cast<double>(mass) >= target; }, sh);
  }
  // Min-p keeps weight >= min_p · (the best weight, exactly 1).
  const double min_weight = a.min_p > 0.0f ? static_cast<double>(a.min_p) : 0.0;
  auto kept = [&](int32_t i) {
    return is_candidate(work, i) && rank_key(work[i], i) >= lowest_kept && weights[i] >= min_weight;
  };

  // 5. The draw: u = uniform · kept mass; the first kept id (ascending) whose running
  // mass exceeds u. Each thread sums one contiguous chunk of ids; the chunk sums are
  // scanned in thread order by warp 0, 32 per lane.
  const int32_t chunk = (n + n_threads - 1) / n_threads;
  const int32_t begin = min(n, tid * chunk), end = min(n, begin + chunk);
  double mass = 0.0;
  int last_positive = -1;
  for (int32_t i = begin; i < end; ++i) {
    if (!kept(i)) continue;
    mass += weights[i];
    if (weights[i] > 0.0) last_positive = i;
  }
  sh.chunk_mass[tid] = mass;
  if (tid == 0) {
    sh.answer = 0x7fffffff;
    sh.last_positive = -1;
  }
  __syncthreads();
  if (tid < kWarp) {
    constexpr int kPerLane = kSampleThreads / kWarp;
    double lane_total = 0.0;
    for (int t = tid * kPerLane; t < (tid + 1) * kPerLane; ++t)
      lane_total += t < n_threads ? sh.chunk_mass[t] : 0.0;
    const double inclusive = warp_inclusive_sum(lane_total);
    double running = inclusive - lane_total;
    if (tid == kWarp - 1) sh.total = inclusive;
    for (int t = tid * kPerLane; t < (tid + 1) * kPerLane && t < n_threads; ++t) {
      const double own = sh.chunk_mass[t];
      sh.chunk_mass[t] = running;
      running += own;
    }
  }
  __syncthreads();
  const double u = a.uniform * sh.total;
  mass = sh.chunk_mass[tid];
  for (int32_t i = begin; i < end; ++i) {
    if (!kept(i)) continue;
    mass += weights[i];
    if (u < mass) {
      atomicMin(&sh.answer, i);
      break;
    }
  }
  if (last_positive >= 0) atomicMax(&sh.last_positive, last_positive);
  __syncthreads();
  // Rounding can leave u a hair above the summed mass: the last kept id with any
  // weight is then the answer, as on the CPU.
  if (tid == 0) *out_token = sh.answer != 0x7fffffff ? sh.answer : sh.last_positive;
}

}  // namespace

void sample_token(const float* logits, const int32_t* penalty_window, int32_t n_window,
                  const SampleArgs& args, const SampleScratch& scratch, int32_t* out_token,
                  cudaStream_t stream) {
  int bit_width = 0;
  for (uint32_t v = static_cast<uint32_t>(args.n_allowed); v != 0; v >>= 1) ++bit_width;
  const double mass_scale = std::ldexp(1.0, 63 - bit_width);
  sample_kernel<<<1, kSampleThreads, 0, stream>>>(logits, penalty_window, n_window, args,
                                                  mass_scale, scratch.work, scratch.weights,
                                                  scratch.counts, out_token);
}

}  // namespace bit_ttt::cuda
