// The TTT scan of the training pass (train/ops_ttt.h), one block per sequence:
//   p_t = S_{t−1} f_t;  S_t = S_{t−1} − η (p_t − f_t) f_tᵀ,  S_0 = 0.
// The state lives in the scratch (global memory). Row r of S evolves on its own
// (p_t[r] needs only row r), so warp w owns rows w, w + n_warps, ... for the whole
// scan: one step is one pass over the rows (dot product, then the row update) with
// no barrier between rows; f_t sits in shared memory.
//
// The backward re-runs the forward with the same step function (ttt_step below), so
// its states are the forward's bit for bit, keeping S_0..S_{T−1} and the
// predictions in the scratch, then walks t = T−1..0 as backward_sequence in
// ops_ttt.cc does (G_t = ∂L/∂S_t in the scratch, u, v, dp~, e in shared memory):
//   dp~ = d_p_t − η u;  d_f_t = η (u − v) + S_{t−1}ᵀ dp~;
//   G += dp~ f_tᵀ;  e = p_{t−1} − f_{t−1};  u = G f_{t−1};  v = Gᵀ e.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/train_kernels.h"

namespace bit_ttt::cuda::train {
namespace {

constexpr int kMaxThreads = 1024;

// A warp per state row, at most kMaxThreads threads.
int scan_threads(int64_t d) {
  return d >= kMaxThreads / kWarp ? kMaxThreads : static_cast<int>(d) * kWarp;
}

// Copies n floats from global memory into shared memory (the whole block).
__device__ __forceinline__ void load_vector(float* shared, const float* global, int d) {
  for (int i = threadIdx.x; i < d; i += blockDim.x) shared[i] = global[i];
}

// One token: p = S_in f, S_out = S_in − η (p − f) fᵀ (S_out may be S_in; nullptr
// skips the update). f is in shared memory. Row r is handled by warp r mod n_warps,
// its sum by lane in a fixed order: the result does not depend on the block size.
// The forward and the backward's re-run both use this function, and it spells its
// roundings out (fmaf, __fmul_rn, __fsub_rn), so their states are equal bit for bit.
__device__ void ttt_step(const float* state_in, float* state_out, const float* f, int d, float eta,
                         float* p) {
  const int lane = threadIdx.x % kWarp;
  const int n_warps = blockDim.x / kWarp;
  for (int r = threadIdx.x / kWarp; r < d; r += n_warps) {
    const float* in_row = state_in + static_cast<int64_t>(r) * d;
    float dot = 0.0f;
    for (int c = lane; c < d; c += kWarp) dot = fmaf(in_row[c], f[c], dot);
    dot = warp_sum(dot);
    if (lane == 0) p[r] = dot;
    if (state_out == nullptr) continue;
    const float coefficient = __fmul_rn(eta, __fsub_rn(dot, f[r]));
    float* out_row = state_out + static_cast<int64_t>(r) * d;
    for (int c = lane; c < d; c += kWarp)
      out_row[c] = __fsub_rn(in_row[c], __fmul_rn(coefficient, f[c]));
  }
}

// The forward scan of one sequence from S_0 = 0. With keep_states, states holds
// seq_len d×d matrices and receives S_0..S_{T−1} (the state before each token);
// otherwise it is one d×d matrix updated in place. f_shared: d floats of shared memory.
// Ends with a barrier (p and the states are visible to the whole block).
__device__ void scan_sequence(float* p, const float* f, int64_t seq_len, int d, float eta,
                              float* states, bool keep_states, float* f_shared) {
  const int64_t dd = static_cast<int64_t>(d) * d;
  for (int64_t i = threadIdx.x; i < dd; i += blockDim.x) states[i] = 0.0f;
  for (int64_t t = 0; t < seq_len; ++t) {
    load_vector(f_shared, f + t * d, d);
    __syncthreads();  // f_t loaded (and, at t = 0, S_0 zeroed)
    if (keep_states) {
      float* next = t + 1 < seq_len ? states + (t + 1) * dd : nullptr;
      ttt_step(states + t * dd, next, f_shared, d, eta, p + t * d);
    } else {
      ttt_step(states, states, f_shared, d, eta, p + t * d);
    }
    __syncthreads();  // f_shared is read before the next token overwrites it
  }
}

__global__ void __launch_bounds__(kMaxThreads)
    ttt_scan_forward_kernel(float* p, const float* f, int64_t seq_len, int d, float eta,
                            float* scratch) {
  extern __shared__ float f_shared[];  // d
  const int64_t b = blockIdx.x;
  const int64_t first = b * seq_len * d;
  scan_sequence(p + first, f + first, seq_len, d, eta, scratch + b * d * d, false, f_shared);
}

__global__ void __launch_bounds__(kMaxThreads)
    ttt_scan_backward_kernel(float* d_f, const float* d_p, const float* f, int64_t seq_len, int d,
                             float eta, float* scratch) {
  extern __shared__ float shared[];  // six d-vectors
  float* f_t = shared;
  float* f_prev = f_t + d;
  float* dp_total = f_prev + d;
  float* e = dp_total + d;
  float* u = e + d;
  float* v = u + d;

  const int64_t b = blockIdx.x;
  const int64_t dd = static_cast<int64_t>(d) * d;
  float* states = scratch + b * (seq_len * dd + seq_len * d + dd);  // S_0..S_{T−1}
  float* predictions = states + seq_len * dd;                       // [seq_len, d]
  float* G = predictions + seq_len * d;                             // ∂L/∂S after token t
  const int64_t first = b * seq_len * d;
  f += first;
  d_p += first;
  d_f += first;

  scan_sequence(predictions, f, seq_len, d, eta, states, true, f_t);

  // G_T = 0, so the last token's u = G f and v = Gᵀ e are 0.
  for (int64_t i = threadIdx.x; i < dd; i += blockDim.x) G[i] = 0.0f;
  for (int i = threadIdx.x; i < d; i += blockDim.x) u[i] = v[i] = 0.0f;
  __syncthreads();

  const int lane = threadIdx.x % kWarp;
  const int n_warps = blockDim.x / kWarp;
  for (int64_t t = seq_len - 1; t >= 0; --t) {
    const float* dp_t = d_p + t * d;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
      f_t[i] = f[t * d + i];
      dp_total[i] = dp_t[i] - eta * u[i];
    }
    __syncthreads();
    // d_f_t = η (u − v) + S_{t−1}ᵀ dp~: a thread per column, rows in order (as the CPU).
    const float* S = states + t * dd;
    float* df_t = d_f + t * d;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
      float sum = eta * (u[c] - v[c]);
      for (int r = 0; r < d; ++r) sum += dp_total[r] * S[static_cast<int64_t>(r) * d + c];
      df_t[c] = sum;
    }
    if (t == 0) break;
    // The previous token's e and f; the barrier below also ends every read of u and v.
    const float* p_prev = predictions + (t - 1) * d;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
      const float f_value = f[(t - 1) * d + i];
      f_prev[i] = f_value;
      e[i] = p_prev[i] - f_value;
    }
    __syncthreads();
    // G_{t−1} = G_t + dp~ f_tᵀ and u = G_{t−1} f_{t−1}: a warp per row.
    for (int r = threadIdx.x / kWarp; r < d; r += n_warps) {
      float* g = G + static_cast<int64_t>(r) * d;
      const float a = dp_total[r];
      float sum = 0.0f;
      for (int c = lane; c < d; c += kWarp) {
        const float x = g[c] + a * f_t[c];
        g[c] = x;
        sum += x * f_prev[c];
      }
      sum = warp_sum(sum);
      if (lane == 0) u[r] = sum;
    }
    __syncthreads();  // G's rows are written by other warps than read its columns
    // v = Gᵀ e: a thread per column, rows in order (as the CPU).
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
      float sum = 0.0f;
      for (int r = 0; r < d; ++r) sum += e[r] * G[static_cast<int64_t>(r) * d + c];
      v[c] = sum;
    }
    __syncthreads();  // u, v ready; f_t and f_prev free for the next token
  }
}

}  // namespace

int64_t ttt_scan_forward_scratch(int64_t n_seqs, int64_t d) {
  return n_seqs * d * d;
}

int64_t ttt_scan_backward_scratch(int64_t n_seqs, int64_t seq_len, int64_t d) {
  // Per sequence: the states S_0..S_{T−1}, the predictions, G.
  return n_seqs * (seq_len * d * d + seq_len * d + d * d);
}

void ttt_scan_forward(float* p, const float* f, int64_t n_seqs, int64_t seq_len, int64_t d,
                      float eta, float* scratch, cudaStream_t stream) {
  if (n_seqs <= 0 || seq_len <= 0 || d <= 0) return;
  const size_t shared_bytes = sizeof(float) * static_cast<size_t>(d);
  ttt_scan_forward_kernel<<<static_cast<unsigned>(n_seqs), scan_threads(d), shared_bytes, stream>>>(
      p, f, seq_len, static_cast<int>(d), eta, scratch);
}

void ttt_scan_backward(float* d_f, const float* d_p, const float* f, int64_t n_seqs,
                       int64_t seq_len, int64_t d, float eta, float* scratch, cudaStream_t stream) {
  if (n_seqs <= 0 || seq_len <= 0 || d <= 0) return;
  const size_t shared_bytes = 6 * sizeof(float) * static_cast<size_t>(d);
  ttt_scan_backward_kernel<<<static_cast<unsigned>(n_seqs), scan_threads(d), shared_bytes,
                             stream>>>(d_f, d_p, f, seq_len, static_cast<int>(d), eta, scratch);
}

}  // namespace bit_ttt::cuda::train
