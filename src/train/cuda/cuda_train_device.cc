// Training on one NVIDIA GPU: the pass of train/pass.h over device memory, with
// cuBLAS for the dense products (full fp32, no TF32: the int8 BitLinear's integer
// sums stay exact) and kernels/cuda/train_kernels.h for everything else, all on
// one stream. The host waits on the device three times a pass: for the weights'
// β (one small copy after quantizing every weight), for the per-row losses at
// the end of the forward, and for the gradient norm before the optimizer.
#include "train/cuda/cuda_train_device.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <vector>

#include "backend/cuda/cuda_util.h"
#include "bit_ttt/error.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/train_kernels.h"
#include "train/pass.h"

namespace bit_ttt::cuda {
namespace {

constexpr const char* kTrainMemoryHint =
    "train a smaller model, a smaller --batch-size or --context, or use --device cpu";

// A device array that only grows.
template <typename U>
struct DeviceArray {
  std::shared_ptr<void> memory;
  int64_t n = 0;
  U* data() { return static_cast<U*>(memory.get()); }
  const U* data() const { return static_cast<const U*>(memory.get()); }
  size_t capacity() const { return static_cast<size_t>(n); }
};

template <typename U>
void grow_array(DeviceArray<U>& array, int64_t n, const char* what) {
  if (array.n >= n) return;
  array.memory.reset();  // free first: the old contents are not kept
  array.memory = allocate(static_cast<size_t>(n) * sizeof(U), what, kTrainMemoryHint);
  array.n = n;
}

// The Ops policy of train/pass.h on the GPU (float only).
struct CudaPassOps {
  template <typename U>
  using Buffer = DeviceArray<U>;
  using Weight = bit_ttt::train::BitLinearWeight<float>;

  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  const float* params = nullptr;  // the pass's parameter buffer (weights point into it)
  // quantize_weights: [offsets | counts | code offsets] per weight, sums and betas.
  std::vector<int64_t> host_table;
  std::vector<float> host_betas;
  DeviceArray<int64_t> table;
  DeviceArray<double> abs_sums;
  DeviceArray<float> betas;
  std::vector<float> host_losses;

  template <typename U>
  void grow(DeviceArray<U>& array, int64_t n) {
    grow_array(array, n, "training activations");
  }
  // The int8 buffers of the pass are the CPU quantizers' scratch; the kernels
  // write their codes as float and need none.
  void grow(DeviceArray<int8_t>&, int64_t) {}
  const int32_t* ids(std::span<const int32_t> host, DeviceArray<int32_t>& array) {
    grow(array, static_cast<int64_t>(host.size()));
    check(cudaMemcpyAsync(array.data(), host.data(), host.size_bytes(), cudaMemcpyHostToDevice,
                          stream),
          "copying token ids to the GPU");
    return array.data();
  }
  int64_t scan_scratch_size(bool backward, int64_t n_seqs, int64_t seq_len, int64_t d) const {
    return backward ? cuda::train::ttt_scan_backward_scratch(n_seqs, seq_len, d)
                    : cuda::train::ttt_scan_forward_scratch(n_seqs, d);
  }

  void quantize_weights(std::vector<Weight>& weights, const std::vector<int64_t>& code_offsets,
                        float* codes, int8_t*) {
    const int64_t n = static_cast<int64_t>(weights.size());
    if (n == 0) return;
    host_table.resize(static_cast<size_t>(3 * n));
    for (int64_t j = 0; j < n; ++j) {
      const Weight& w = weights[static_cast<size_t>(j)];
      host_table[static_cast<size_t>(j)] = w.values - params;
      host_table[static_cast<size_t>(n + j)] = w.n_out * w.n_in;
      host_table[static_cast<size_t>(2 * n + j)] = code_offsets[static_cast<size_t>(j)];
    }
    grow(table, 3 * n);
    grow(abs_sums, n);
    grow(betas, n);
    check(cudaMemcpyAsync(table.data(), host_table.data(), sizeof(int64_t) * host_table.size(),
                          cudaMemcpyHostToDevice, stream),
          "copying the weight table to the GPU");
    cuda::train::ternary_quantize_weights(params, table.data(), table.data() + n,
                                          table.data() + 2 * n, n, codes, abs_sums.data(),
                                          betas.data(), stream);
    host_betas.resize(static_cast<size_t>(n));
    check(cudaMemcpyAsync(host_betas.data(), betas.data(), sizeof(float) * host_betas.size(),
                          cudaMemcpyDeviceToHost, stream),
          "copying the weight scales from the GPU");
    check(cudaStreamSynchronize(stream), "quantizing the weights");
    for (int64_t j = 0; j < n; ++j) {
      Weight& w = weights[static_cast<size_t>(j)];
      w.scale = host_betas[static_cast<size_t>(j)];
      w.values = codes + code_offsets[static_cast<size_t>(j)];
    }
  }
  void int8_quantize_activations(float* x_tilde, float* xq, float* gamma, const float* in,
                                 int64_t rows, int64_t cols, int8_t*) {
    cuda::train::int8_quantize_activations(x_tilde, xq, gamma, in, rows, cols, stream);
  }
  void bit_linear_forward(float* out, const float* in, const float* gamma, const Weight& w,
                          int64_t rows) {
    if (gamma == nullptr) {
      gemm_nt(out, in, w.values, rows, w.n_out, w.n_in, w.scale, 0.0f);
      return;
    }
    // The exact integer sums, then the inference's row scale β·γ/127.
    gemm_nt(out, in, w.values, rows, w.n_out, w.n_in, 1.0f, 0.0f);
    cuda::train::scale_rows_by_gamma(out, gamma, w.scale, rows, w.n_out, stream);
  }
  void bit_linear_backward(float* d_in, float* d_weight, const float* d_out, const float* x_tilde,
                           const Weight& w, int64_t rows, bool accumulate) {
    if (d_in != nullptr)
      gemm_nn(d_in, d_out, w.values, rows, w.n_in, w.n_out, w.scale, accumulate ? 1.0f : 0.0f);
    gemm_tn(d_weight, d_out, x_tilde, w.n_out, w.n_in, rows, 1.0f, 1.0f);
  }
  void rms_norm_forward(float* out, float* rstd, const float* in, const float* weight, int64_t rows,
                        int64_t dim, float eps) {
    cuda::train::rms_norm_forward(out, rstd, in, weight, rows, dim, eps, stream);
  }
  void rms_norm_backward(float* d_in, float* d_weight, const float* d_out, const float* in,
                         const float* weight, const float* rstd, int64_t rows, int64_t dim) {
    cuda::train::rms_norm_backward(d_in, d_weight, d_out, in, weight, rstd, rows, dim, stream);
  }
  void l2_normalize_forward(float* out, float* norm, const float* in, int64_t rows, int64_t dim,
                            float eps) {
    cuda::train::l2_normalize_forward(out, norm, in, rows, dim, eps, stream);
  }
  void l2_normalize_backward(float* d_in, const float* d_out, const float* out, const float* norm,
                             int64_t rows, int64_t dim, float eps) {
    cuda::train::l2_normalize_backward(d_in, d_out, out, norm, rows, dim, eps, stream);
  }
  void ttt_scan_forward(float* p, const float* f, int64_t n_seqs, int64_t seq_len, int64_t d,
                        float eta, float* scratch) {
    cuda::train::ttt_scan_forward(p, f, n_seqs, seq_len, d, eta, scratch, stream);
  }
  void ttt_scan_backward(float* d_f, const float* d_p, const float* f, int64_t n_seqs,
                         int64_t seq_len, int64_t d, float eta, float* scratch) {
    cuda::train::ttt_scan_backward(d_f, d_p, f, n_seqs, seq_len, d, eta, scratch, stream);
  }
  void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) {
    cuda::train::swiglu_forward(out, gate, up, n, stream);
  }
  void swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                       const float* up, int64_t n) {
    cuda::train::swiglu_backward(d_gate, d_up, d_out, gate, up, n, stream);
  }
  void add_rows(float* out, const float* a, const float* b, int64_t n) {
    cuda::train::add(out, a, b, n, stream);
  }
  void add_into(float* accumulator, const float* delta, int64_t n) {
    cuda::train::add_into(accumulator, delta, n, stream);
  }
  void embedding_forward(float* out, const float* table_values, const int32_t* tokens, int64_t rows,
                         int64_t dim) {
    cuda::train::embedding_forward(out, table_values, tokens, rows, dim, stream);
  }
  void embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t rows,
                          int64_t dim) {
    cuda::train::embedding_backward(d_table, d_out, tokens, rows, dim, stream);
  }
  // Row-major products as column-major cuBLAS calls: a row-major [m, n] matrix is
  // the column-major [n, m] one, so out = a·bᵀ is outᶜ = bᶜᵀ·aᶜ, and so on.
  void gemm_nt(float* out, const float* a, const float* b, int64_t m, int64_t n, int64_t k,
               float alpha, float beta) {
    gemm(CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, alpha, b, k, a, k, beta, out, n);
  }
  void gemm_nn(float* out, const float* a, const float* b, int64_t m, int64_t n, int64_t k,
               float alpha, float beta) {
    gemm(CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, alpha, b, n, a, k, beta, out, n);
  }
  void gemm_tn(float* out, const float* a, const float* b, int64_t m, int64_t n, int64_t k,
               float alpha, float beta) {
    gemm(CUBLAS_OP_N, CUBLAS_OP_T, n, m, k, alpha, b, n, a, m, beta, out, n);
  }
  void gemm(cublasOperation_t op_a, cublasOperation_t op_b, int64_t m, int64_t n, int64_t k,
            float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
            float* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    check_cublas(cublasSgemm(cublas, op_a, op_b, static_cast<int>(m), static_cast<int>(n),
                             static_cast<int>(k), &alpha, a, static_cast<int>(lda), b,
                             static_cast<int>(ldb), &beta, c, static_cast<int>(ldc)),
                 "cublasSgemm");
  }
  void cross_entropy(float* d_logits, float* losses, const float* logits, const int32_t* targets,
                     float d_loss, bool backward, int64_t rows, int64_t vocab) {
    cuda::train::cross_entropy(d_logits, losses, logits, targets, d_loss, backward, rows, vocab,
                               stream);
  }
  void copy_to_host(float* host, const float* values, int64_t n) {
    check(cudaMemcpyAsync(host, values, sizeof(float) * static_cast<size_t>(n),
                          cudaMemcpyDeviceToHost, stream),
          "copying results of the training pass from the GPU");
    check(cudaStreamSynchronize(stream), "the training pass");
  }
  // In row order in double on the host, as the CPU policy sums.
  double sum(const float* values, int64_t n) {
    host_losses.resize(static_cast<size_t>(n));
    copy_to_host(host_losses.data(), values, n);
    double total = 0.0;
    for (float value : host_losses) total += static_cast<double>(value);
    return total;
  }
};

class CudaTrainDevice final : public TrainDevice {
 public:
  CudaTrainDevice(ModelParams& params, AdamWState& optimizer)
      : params_(params), optimizer_(optimizer) {
    if (params.config.ttt_dim > kMaxTttDim)
      fail("training on cuda supports ttt_dim up to ", kMaxTttDim, ", the model has ",
           params.config.ttt_dim, " (use --device cpu)");
    description_ = use_first_gpu();
    check(cudaStreamCreateWithFlags(&ops_.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check_cublas(cublasCreate(&ops_.cublas), "cublasCreate");
    check_cublas(cublasSetStream(ops_.cublas, ops_.stream), "cublasSetStream");
    // Full fp32 products: TF32 would round the BitLinear inputs to 10 mantissa bits.
    check_cublas(cublasSetMathMode(ops_.cublas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    const int64_t n = static_cast<int64_t>(params.values.size());
    BT_CHECK(static_cast<int64_t>(optimizer.exp_avg.size()) == n &&
             static_cast<int64_t>(optimizer.exp_avg_sq.size()) == n);
    grow_array(params_dev_, n, "the parameters");
    grow_array(grads_dev_, n, "the gradients");
    grow_array(exp_avg_dev_, n, "the AdamW first moments");
    grow_array(exp_avg_sq_dev_, n, "the AdamW second moments");
    upload(params_dev_, params.values);
    upload(exp_avg_dev_, optimizer.exp_avg);
    upload(exp_avg_sq_dev_, optimizer.exp_avg_sq);
    zero_grads();
    check(cudaStreamSynchronize(ops_.stream), "uploading the model");
  }
  ~CudaTrainDevice() override {
    cudaStreamSynchronize(ops_.stream);
    cublasDestroy(ops_.cublas);
    cudaStreamDestroy(ops_.stream);
  }
  CudaTrainDevice(const CudaTrainDevice&) = delete;
  CudaTrainDevice& operator=(const CudaTrainDevice&) = delete;

  void zero_grads() override {
    check(cudaMemsetAsync(grads_dev_.data(), 0, sizeof(float) * grads_dev_.capacity(), ops_.stream),
          "zeroing the gradients");
  }
  double forward_backward(std::span<const int32_t> tokens, int64_t batch, int64_t seq_len,
                          float grad_scale) override {
    return pass(tokens, batch, seq_len, grads_dev_.data(), grad_scale);
  }
  double loss(std::span<const int32_t> tokens, int64_t batch, int64_t seq_len) override {
    return pass(tokens, batch, seq_len, nullptr, 1.0f);
  }
  double clip_gradients(double max_norm) override {
    grow_array(norm_dev_, 1, "the gradient norm");
    cuda::train::sum_of_squares(grads_dev_.data(), grads_dev_.n, norm_dev_.data(), ops_.stream);
    double sum_sq = 0.0;
    check(cudaMemcpyAsync(&sum_sq, norm_dev_.data(), sizeof(double), cudaMemcpyDeviceToHost,
                          ops_.stream),
          "copying the gradient norm from the GPU");
    check(cudaStreamSynchronize(ops_.stream), "the training step");
    const double norm = std::sqrt(sum_sq);
    const float factor = clip_factor(norm, max_norm);
    if (factor != 1.0f) cuda::train::scale(grads_dev_.data(), grads_dev_.n, factor, ops_.stream);
    return norm;
  }
  void adamw_step(const AdamWConfig& config, double lr) override {
    ++optimizer_.step;
    const AdamWStepConstants k = adamw_step_constants(config, optimizer_.step, lr);
    for (const ParamEntry& entry : params_.entries) {
      const size_t at = entry.offset;
      cuda::train::adamw(params_dev_.data() + at, grads_dev_.data() + at, exp_avg_dev_.data() + at,
                         exp_avg_sq_dev_.data() + at, static_cast<int64_t>(entry.count), k.beta1,
                         k.beta2, k.step_size, k.inv_sqrt_bias2, k.eps,
                         entry.is_matrix ? k.matrix_decay : 0.0f, ops_.stream);
    }
  }
  void sync_to_host() override {
    download(params_.values, params_dev_);
    download(optimizer_.exp_avg, exp_avg_dev_);
    download(optimizer_.exp_avg_sq, exp_avg_sq_dev_);
    check(cudaStreamSynchronize(ops_.stream), "copying the model from the GPU");
  }
  void copy_grads_to(ModelParams& grads) override {
    grads.values.resize(static_cast<size_t>(grads_dev_.n));
    download(grads.values, grads_dev_);
    check(cudaStreamSynchronize(ops_.stream), "copying the gradients from the GPU");
  }
  std::string description() const override { return description_; }

 private:
  double pass(std::span<const int32_t> tokens, int64_t batch, int64_t seq_len, float* grads,
              float grad_scale) {
    bit_ttt::train::check_training_sequence_length(seq_len);
    bit_ttt::train::check_pass_arguments(params_, params_.values.size(), tokens, batch, seq_len,
                                         grads ? params_.values.size() : 0, 0);
    ops_.params = params_dev_.data();
    return bit_ttt::train::run_pass(ops_, buffers_, timings_, params_, params_dev_.data(), tokens,
                                    batch, seq_len, grads, grad_scale, QuantizeMode::ste, {});
  }
  void upload(DeviceArray<float>& array, const std::vector<float>& host) {
    check(cudaMemcpyAsync(array.data(), host.data(), sizeof(float) * host.size(),
                          cudaMemcpyHostToDevice, ops_.stream),
          "copying the model to the GPU");
  }
  void download(std::vector<float>& host, const DeviceArray<float>& array) {
    check(cudaMemcpyAsync(host.data(), array.data(), sizeof(float) * host.size(),
                          cudaMemcpyDeviceToHost, ops_.stream),
          "copying the model from the GPU");
  }

  ModelParams& params_;
  AdamWState& optimizer_;
  std::string description_;
  CudaPassOps ops_;
  bit_ttt::train::PassBuffers<float, CudaPassOps> buffers_;
  bit_ttt::train::PhaseTimes timings_{};
  DeviceArray<float> params_dev_, grads_dev_, exp_avg_dev_, exp_avg_sq_dev_;
  DeviceArray<double> norm_dev_;
};

}  // namespace

std::unique_ptr<TrainDevice> make_cuda_train_device(ModelParams& params, AdamWState& optimizer) {
  return std::make_unique<CudaTrainDevice>(params, optimizer);
}

}  // namespace bit_ttt::cuda
