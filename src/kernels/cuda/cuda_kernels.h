// CUDA kernels of the inference ops: plain launch functions over device pointers,
// enqueued on the caller's stream (no synchronisation, no allocation). Each one
// mirrors a scalar reference in kernels/ref and is tested against the CPU backend
// (tests/backend/cuda_parity_test.cc). Shapes: activations [rows, cols] row-major;
// weights [n_out, n_in] (PyTorch order); outputs [rows, n_out].
//
// Ternary weights use the CPU's i2 layout unchanged (kernels/ref/ternary_packed_ref.h):
// a 32-bit word of a block holds, in its bit pairs 2k..2k+1 of each byte, four
// consecutive digits u = code + 1, so `(word >> 2k) & 0x03030303` is four bytes that
// feed dp4a directly and Σ code·x = Σ u·x − Σ x.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace bit_ttt::cuda {

// The int8 activation quantization of ref::int8_quantize_row, per row:
// gammas[r] = max(max|x|, 1e-5), xq = clamp(round(x·127/γ)) into rows of
// `padded_cols` bytes (zero past `cols`), row_sums[r] = Σ xq (exact).
void quantize_rows_i8(const float* x, int64_t rows, int64_t cols, int64_t padded_cols, int8_t* xq,
                      float* gammas, int32_t* row_sums, cudaStream_t stream);

// out[r, o] = β·γ_r/127 · Σ xq[r, i]·Wq[o, i], the integer sum exact, the scaling
// in the CPU's order (bit-identical to the CPU backend). w: i2 rows of
// `row_stride_bytes`; xq rows of row_stride_bytes·4 bytes.
void ternary_gemm_i8(const uint8_t* w, int64_t n_out, int64_t row_stride_bytes, const int8_t* xq,
                     const int32_t* row_sums, const float* gammas, float beta, int64_t rows,
                     float* out, cudaStream_t stream);

// out[r, o] = β · Σ x[r, i]·Wq[o, i] in float (activation_quant: none).
void ternary_gemm_f32(const uint8_t* w, int64_t n_out, int64_t row_stride_bytes, const float* x,
                      int64_t rows, int64_t n_in, float beta, float* out, cudaStream_t stream);

// Dense matrices (the LM head): element type of `w` by `dtype` (0 f32, 1 f16,
// 2 bf16, the DenseDType order). out[r, o] = Σ_i x[r, i]·w[o, i], float accumulators.
void dense_gemm_float(int dtype, const void* w, int64_t n_out, int64_t n_in, const float* x,
                      int64_t rows, float* out, cudaStream_t stream);
// The i8_row head: q int8 [n_out, n_in], row_scales [n_out]; xq rows of
// `padded_cols` bytes from quantize_rows_i8. out = s_o·(γ_r/127)·dot, as on the CPU.
void dense_gemm_i8(const int8_t* q, const float* row_scales, int64_t n_out, int64_t n_in,
                   const int8_t* xq, int64_t padded_cols, const float* gammas, int64_t rows,
                   float* out, cudaStream_t stream);
// x float → f16 (dtype 1) or bf16 (dtype 2), round to nearest even (for cuBLAS).
void convert_f32_to_half(int dtype, const float* x, int64_t n, void* out, cudaStream_t stream);

// out[t, :] = row ids[t] of the table as float (exact conversion; i8_row: q·s_o).
void embedding(int dtype, const void* table, const float* row_scales, int64_t width,
               const int32_t* ids, int64_t n_ids, float* out, cudaStream_t stream);

void rms_norm(const float* x, const float* weight, float eps, int64_t rows, int64_t cols,
              float* out, cudaStream_t stream);
void swiglu(const float* gate, const float* up, int64_t n, float* out, cudaStream_t stream);
void add_in_place(float* accumulator, const float* delta, int64_t n, cudaStream_t stream);
void l2_normalize_rows(float* x, int64_t rows, int64_t cols, float eps, cudaStream_t stream);

// The TTT recurrence over the rows of f [steps, d]: p_t = S f_t, then
// S -= η (p_t − f_t) f_tᵀ. Row i of S only ever needs f and its own values, so
// each warp keeps one row in registers for the whole scan. d ≤ kMaxTttDim.
inline constexpr int64_t kMaxTttDim = 1024;
void ttt_scan(const float* f, int64_t steps, int64_t d, float eta, float* state, float* predictions,
              cudaStream_t stream);

// Sampling one position's logits on the device (sampling_cuda.cu): the pipeline
// of bit_ttt/sampler.h with the caller's random number, so only the id returns.
struct SampleArgs {
  int32_t n_allowed = 0;  // ids >= n_allowed are never chosen
  float temperature = 0.0f;
  int32_t top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  float repetition = 1.0f;
  float frequency = 0.0f;
  float presence = 0.0f;
  double uniform = 0.0;  // the sampler's draw in [0, 1); unused when greedy
};
// Device scratch of n_allowed entries each; `counts` must be all zero and is left so.
struct SampleScratch {
  float* work = nullptr;
  double* weights = nullptr;
  int32_t* counts = nullptr;
};
// *out_token = the chosen id, or −1 when no allowed logit is finite. The penalty
// window holds the history ids the penalties look at (validated, in [0, n_vocab));
// n_window 0 when the penalties are off.
void sample_token(const float* logits, const int32_t* penalty_window, int32_t n_window,
                  const SampleArgs& args, const SampleScratch& scratch, int32_t* out_token,
                  cudaStream_t stream);

}  // namespace bit_ttt::cuda
