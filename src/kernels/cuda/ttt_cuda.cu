// The TTT scan (MODEL_SPEC.md §3): p_t = S f_t; S -= η (p_t − f_t) f_tᵀ, for t in
// order. Row i of S evolves on its own (p_t[i] needs only row i), so one warp owns
// one row for the whole scan, kept in registers; f_{t+1} is loaded while step t
// reduces. State rows are read once and written once per call.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace bit_ttt::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;

template <int kPerLane>
__global__ void ttt_scan_kernel(const float* f, int64_t steps, int d, float eta, float* state,
                                float* predictions) {
  const int lane = threadIdx.x % kWarp;
  const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / kWarp;
  if (row >= d) return;
  float s[kPerLane], next[kPerLane];
  float* state_row = state + static_cast<int64_t>(row) * d;
#pragma unroll
  for (int k = 0; k < kPerLane; ++k) {
    const int c = lane + kWarp * k;
    s[k] = c < d ? state_row[c] : 0.0f;
    next[k] = c < d && steps > 0 ? f[c] : 0.0f;
  }
  float next_own = steps > 0 ? f[row] : 0.0f;
  for (int64_t t = 0; t < steps; ++t) {
    float fv[kPerLane];
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) fv[k] = next[k];
    const float own = next_own;
    if (t + 1 < steps) {  // prefetch f_{t+1}
      const float* f_next = f + (t + 1) * d;
#pragma unroll
      for (int k = 0; k < kPerLane; ++k) {
        const int c = lane + kWarp * k;
        next[k] = c < d ? f_next[c] : 0.0f;
      }
      next_own = f_next[row];
    }
    float dot = 0.0f;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) dot += s[k] * fv[k];
    dot = warp_sum(dot);
    const float coefficient = eta * (dot - own);
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) s[k] -= coefficient * fv[k];
    if (lane == 0) predictions[t * d + row] = dot;
  }
#pragma unroll
  for (int k = 0; k < kPerLane; ++k) {
    const int c = lane + kWarp * k;
    if (c < d) state_row[c] = s[k];
  }
}

template <int kPerLane>
void launch(const float* f, int64_t steps, int64_t d, float eta, float* state, float* predictions,
            cudaStream_t stream) {
  ttt_scan_kernel<kPerLane><<<blocks_for(d, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0, stream>>>(
      f, steps, static_cast<int>(d), eta, state, predictions);
}

}  // namespace

void ttt_scan(const float* f, int64_t steps, int64_t d, float eta, float* state, float* predictions,
              cudaStream_t stream) {
  if (d <= 0) return;
  if (d <= 32) return launch<1>(f, steps, d, eta, state, predictions, stream);
  if (d <= 64) return launch<2>(f, steps, d, eta, state, predictions, stream);
  if (d <= 128) return launch<4>(f, steps, d, eta, state, predictions, stream);
  if (d <= 256) return launch<8>(f, steps, d, eta, state, predictions, stream);
  if (d <= 512) return launch<16>(f, steps, d, eta, state, predictions, stream);
  launch<32>(f, steps, d, eta, state, predictions,
             stream);  // d ≤ kMaxTttDim, checked by the caller
}

}  // namespace bit_ttt::cuda
