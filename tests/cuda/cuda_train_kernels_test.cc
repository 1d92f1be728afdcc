// CPU == CUDA for the training kernels (kernels/cuda/train_kernels.h): each kernel
// against the same-named CPU op of src/train on random inputs, with a tolerance per
// op (max |cuda − cpu| / max |cpu|). Integer-valued and copy-like results
// (quantized codes, embedding rows, elementwise adds, the row scale) must match bit
// for bit; float reductions are ordered differently on the GPU. Skips without a GPU.
#if defined(BIT_TTT_HAVE_CUDA)

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/train_kernels.h"
#include "train/adamw.h"
#include "train/ops_bit_linear.h"
#include "train/ops_cross_entropy.h"
#include "train/ops_embedding.h"
#include "train/ops_norm.h"
#include "train/ops_swiglu.h"
#include "train/ops_ttt.h"

namespace bit_ttt {
namespace {

namespace gpu = cuda::train;
using testing::relative_error;

void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}
#define CUDA_CHECK(call) check_cuda((call), #call)

// Waits for the kernels launched so far and reports a launch or execution error.
void finish() {
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaDeviceSynchronize());
}

// Bit for bit, so that −0 where the CPU has +0 counts as a difference (== does not).
bool same_bits(float a, float b) {
  return std::memcmp(&a, &b, sizeof(float)) == 0;
}
void expect_same_bits(const std::vector<float>& got, const std::vector<float>& want,
                      const std::string& name) {
  ASSERT_EQ(got.size(), want.size()) << name;
  int64_t differing = 0;
  for (size_t i = 0; i < got.size(); ++i) differing += !same_bits(got[i], want[i]);
  EXPECT_EQ(differing, 0) << name << ": values whose bits differ from the CPU's";
}

// Device memory for n values of T, freed on scope exit.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    CUDA_CHECK(cudaMalloc(&ptr_, std::max<size_t>(n, 1) * sizeof(T)));
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return ptr_; }
  void upload(const std::vector<T>& host) {
    if (host.size() != n_) throw std::runtime_error("DeviceBuffer::upload: size mismatch");
    CUDA_CHECK(cudaMemcpy(ptr_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  // Every byte 0xFF (NaN floats): a kernel that reads scratch it did not write shows.
  void poison() { CUDA_CHECK(cudaMemset(ptr_, 0xFF, std::max<size_t>(n_, 1) * sizeof(T))); }
  std::vector<T> download() const {
    finish();
    std::vector<T> host(n_);
    CUDA_CHECK(cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

std::vector<float> random_normal(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(n);
  for (float& v : values) v = normal(rng);
  return values;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tolerance,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  EXPECT_LE(relative_error(got, want), tolerance) << what;
}

std::string shape_name(int64_t rows, int64_t cols) {
  return "[" + std::to_string(rows) + ", " + std::to_string(cols) + "]";
}

TEST(CudaTrainKernels, TernaryQuantizeWeights) {
  SKIP_WITHOUT_GPU();
  // Several tensors in one launch: tiny, odd, one over 1M values, one all zeros.
  const std::vector<int64_t> counts = {1, 7, 1000, 65537, 1200001, 300, 4096};
  const std::vector<float> scales = {1.0f, 0.5f, 0.02f, 0.02f, 0.01f, 0.0f, 3.0f};
  const int64_t n_tensors = static_cast<int64_t>(counts.size());
  constexpr int64_t kGap = 5;  // codes are laid out with gaps, to check code_offsets
  std::vector<int64_t> offsets, code_offsets;
  std::vector<float> weights;
  int64_t code_total = 0;
  for (int64_t j = 0; j < n_tensors; ++j) {
    offsets.push_back(static_cast<int64_t>(weights.size()));
    code_offsets.push_back(code_total + kGap);
    code_total += counts[j] + kGap;
    const std::vector<float> w = random_normal(counts[j], 100 + j, scales[j]);
    weights.insert(weights.end(), w.begin(), w.end());
  }
  constexpr float kSentinel = 7.0f;
  const std::vector<float> codes_init(code_total, kSentinel);

  DeviceBuffer<float> d_weights(weights), d_codes(codes_init);
  DeviceBuffer<int64_t> d_offsets(offsets), d_counts(counts), d_code_offsets(code_offsets);
  DeviceBuffer<double> d_abs_sums(n_tensors);
  DeviceBuffer<float> d_betas(n_tensors);
  gpu::ternary_quantize_weights(d_weights.get(), d_offsets.get(), d_counts.get(),
                                d_code_offsets.get(), n_tensors, d_codes.get(), d_abs_sums.get(),
                                d_betas.get(), nullptr);
  const std::vector<float> codes = d_codes.download();
  const std::vector<double> abs_sums = d_abs_sums.download();
  const std::vector<float> betas = d_betas.download();

  int64_t gap_values = 0;
  for (int64_t i = 0; i < code_total; ++i) gap_values += codes[i] == kSentinel;
  EXPECT_EQ(gap_values, kGap * n_tensors) << "codes written outside the tensors";

  for (int64_t j = 0; j < n_tensors; ++j) {
    const int64_t n = counts[j];
    const float* w = weights.data() + offsets[j];
    std::vector<float> want(n);
    std::vector<int8_t> scratch(n);
    const float beta = train::ternary_quantize_weight<float>(want.data(), w, n, scratch.data());
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(w[i]));
    EXPECT_LE(std::fabs(abs_sums[j] - sum), 1e-10 * std::max(sum, 1e-300)) << "tensor " << j;
    // β = float(Σ/n) from a double sum in another order: equal but for the last bit.
    EXPECT_LE(std::fabs(betas[j] - beta), 1.2e-7f * beta) << "tensor " << j;
    int64_t mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float got = codes[code_offsets[j] + i];
      if (same_bits(got, want[i])) continue;
      // Only a value within 1e-6 of the rounding boundary |w/β| = 0.5 may differ.
      if (std::fabs(std::fabs(w[i] / beta) - 0.5f) < 1e-6f && std::fabs(got) <= 1.0f) continue;
      ++mismatches;
    }
    EXPECT_EQ(mismatches, 0) << "tensor " << j << " (" << n << " values)";
  }
}

TEST(CudaTrainKernels, Int8QuantizeActivations) {
  SKIP_WITHOUT_GPU();
  const int64_t shapes[][2] = {{1, 1}, {3, 33}, {64, 1000}, {2, 4096}};
  for (const auto& shape : shapes) {
    const int64_t rows = shape[0], cols = shape[1], n = rows * cols;
    std::vector<float> in = random_normal(n, 7, 2.0f);
    if (rows > 1) std::fill(in.begin() + cols, in.begin() + 2 * cols, 0.0f);  // γ = 1e-5
    std::vector<float> x_tilde(n), xq(n), gamma(rows);
    std::vector<int8_t> scratch(n);
    train::int8_quantize_activations<float>(x_tilde.data(), xq.data(), gamma.data(), in.data(),
                                            rows, cols, scratch.data());

    DeviceBuffer<float> d_in(in), d_x_tilde(n), d_xq(n), d_gamma(rows);
    gpu::int8_quantize_activations(d_x_tilde.get(), d_xq.get(), d_gamma.get(), d_in.get(), rows,
                                   cols, nullptr);
    const std::string name = shape_name(rows, cols);
    expect_same_bits(d_gamma.download(), gamma, name);
    expect_same_bits(d_xq.download(), xq, name);
    expect_same_bits(d_x_tilde.download(), x_tilde, name);

    // x_tilde aliasing the input.
    DeviceBuffer<float> d_xq2(n), d_gamma2(rows);
    gpu::int8_quantize_activations(d_in.get(), d_xq2.get(), d_gamma2.get(), d_in.get(), rows, cols,
                                   nullptr);
    expect_same_bits(d_in.download(), x_tilde, name + " in place");
    expect_same_bits(d_xq2.download(), xq, name + " in place");
  }
}

TEST(CudaTrainKernels, ScaleRowsByGamma) {
  SKIP_WITHOUT_GPU();
  const int64_t rows = 5, cols = 300;
  const float scale = 0.037f;
  const std::vector<float> out = random_normal(rows * cols, 11, 50.0f);
  std::vector<float> gamma = random_normal(rows, 12);
  for (float& g : gamma) g = std::fabs(g) + 1e-3f;
  // bit_linear_forward's int8 row scale (ops_bit_linear.cc), on the same sums.
  std::vector<float> want = out;
  for (int64_t r = 0; r < rows; ++r) {
    const float row_scale = scale * gamma[r] / 127.0f;
    for (int64_t o = 0; o < cols; ++o) want[r * cols + o] = row_scale * want[r * cols + o];
  }
  DeviceBuffer<float> d_out(out), d_gamma(gamma);
  gpu::scale_rows_by_gamma(d_out.get(), d_gamma.get(), scale, rows, cols, nullptr);
  EXPECT_EQ(d_out.download(), want);
}

TEST(CudaTrainKernels, RmsNormForwardBackward) {
  SKIP_WITHOUT_GPU();
  // (dim 1 is left out: there d_in is pure cancellation, x²·rstd² = 1 − O(eps).)
  const int64_t shapes[][2] = {{1, 5}, {3, 64}, {130, 1000}, {7, 2048}};
  const float eps = 1e-5f;
  for (const auto& shape : shapes) {
    const int64_t rows = shape[0], dim = shape[1], n = rows * dim;
    const std::string name = shape_name(rows, dim);
    const std::vector<float> in = random_normal(n, 21, 1.5f);
    const std::vector<float> weight = random_normal(dim, 22);
    const std::vector<float> d_out = random_normal(n, 23);
    std::vector<float> out(n), rstd(rows), d_in(n);
    std::vector<float> d_weight = random_normal(dim, 24);  // accumulated into
    const std::vector<float> d_weight_init = d_weight;
    train::rms_norm_forward<float>(out.data(), rstd.data(), in.data(), weight.data(), rows, dim,
                                   eps);
    train::rms_norm_backward<float>(d_in.data(), d_weight.data(), d_out.data(), in.data(),
                                    weight.data(), rstd.data(), rows, dim);

    DeviceBuffer<float> g_in(in), g_weight(weight), g_out(n), g_rstd(rows);
    gpu::rms_norm_forward(g_out.get(), g_rstd.get(), g_in.get(), g_weight.get(), rows, dim, eps,
                          nullptr);
    expect_close(g_out.download(), out, 1e-5, name + " out");
    expect_close(g_rstd.download(), rstd, 1e-5, name + " rstd");

    // The backward from the CPU's saved rstd (the same inputs on both sides).
    DeviceBuffer<float> g_d_out(d_out), g_rstd_cpu(rstd), g_d_in(n), g_d_weight(d_weight_init);
    gpu::rms_norm_backward(g_d_in.get(), g_d_weight.get(), g_d_out.get(), g_in.get(),
                           g_weight.get(), g_rstd_cpu.get(), rows, dim, nullptr);
    expect_close(g_d_in.download(), d_in, 1e-5, name + " d_in");
    expect_close(g_d_weight.download(), d_weight, 1e-5, name + " d_weight");
  }
}

TEST(CudaTrainKernels, L2NormalizeForwardBackward) {
  SKIP_WITHOUT_GPU();
  // (dim 1 is left out: there d_in = df·(1/(‖k‖+eps) − 1/‖k‖) is pure cancellation.)
  const int64_t shapes[][2] = {{1, 3}, {4, 32}, {33, 100}, {5, 1000}};
  const float eps = 1e-6f;
  for (const auto& shape : shapes) {
    const int64_t rows = shape[0], dim = shape[1], n = rows * dim;
    const std::string name = shape_name(rows, dim);
    std::vector<float> in = random_normal(n, 31);
    if (rows > 1) std::fill(in.begin(), in.begin() + dim, 0.0f);  // ‖k‖ = 0
    const std::vector<float> d_out = random_normal(n, 32);
    std::vector<float> out(n), norm(rows), d_in(n);
    train::l2_normalize_forward<float>(out.data(), norm.data(), in.data(), rows, dim, eps);
    train::l2_normalize_backward<float>(d_in.data(), d_out.data(), out.data(), norm.data(), rows,
                                        dim, eps);

    DeviceBuffer<float> g_in(in), g_out(n), g_norm(rows);
    gpu::l2_normalize_forward(g_out.get(), g_norm.get(), g_in.get(), rows, dim, eps, nullptr);
    expect_close(g_out.download(), out, 1e-5, name + " out");
    expect_close(g_norm.download(), norm, 1e-5, name + " norm");

    DeviceBuffer<float> g_d_out(d_out), g_out_cpu(out), g_norm_cpu(norm), g_d_in(n);
    gpu::l2_normalize_backward(g_d_in.get(), g_d_out.get(), g_out_cpu.get(), g_norm_cpu.get(), rows,
                               dim, eps, nullptr);
    expect_close(g_d_in.download(), d_in, 1e-5, name + " d_in");
  }
}

TEST(CudaTrainKernels, SwigluAndAdds) {
  SKIP_WITHOUT_GPU();
  for (const int64_t n : {int64_t{1}, int64_t{1000}, int64_t{100003}}) {
    const std::string name = "n = " + std::to_string(n);
    std::vector<float> gate = random_normal(n, 41, 3.0f);
    if (n >= 4) {  // the exponent's clamp at ±87 and beyond
      gate[0] = 100.0f;
      gate[1] = -100.0f;
      gate[2] = 90.0f;
      gate[3] = -90.0f;
    }
    const std::vector<float> up = random_normal(n, 42);
    const std::vector<float> d_out = random_normal(n, 43);
    std::vector<float> out(n), d_gate(n), d_up(n);
    train::swiglu_forward<float>(out.data(), gate.data(), up.data(), n);
    train::swiglu_backward<float>(d_gate.data(), d_up.data(), d_out.data(), gate.data(), up.data(),
                                  n);

    DeviceBuffer<float> g_gate(gate), g_up(up), g_d_out(d_out), g_out(n), g_d_gate(n), g_d_up(n);
    gpu::swiglu_forward(g_out.get(), g_gate.get(), g_up.get(), n, nullptr);
    expect_close(g_out.download(), out, 1e-5, name + " forward");
    gpu::swiglu_backward(g_d_gate.get(), g_d_up.get(), g_d_out.get(), g_gate.get(), g_up.get(), n,
                         nullptr);
    expect_close(g_d_gate.download(), d_gate, 1e-5, name + " d_gate");
    expect_close(g_d_up.download(), d_up, 1e-5, name + " d_up");
    // d_gate aliasing d_out.
    gpu::swiglu_backward(g_d_out.get(), g_d_up.get(), g_d_out.get(), g_gate.get(), g_up.get(), n,
                         nullptr);
    expect_close(g_d_out.download(), d_gate, 1e-5, name + " d_gate in place");

    // add / add_into: one float addition per element, bit for bit.
    std::vector<float> sum(n);
    for (int64_t i = 0; i < n; ++i) sum[i] = gate[i] + up[i];
    DeviceBuffer<float> g_sum(n);
    gpu::add(g_sum.get(), g_gate.get(), g_up.get(), n, nullptr);
    EXPECT_EQ(g_sum.download(), sum) << name << " add";
    gpu::add_into(g_gate.get(), g_up.get(), n, nullptr);
    EXPECT_EQ(g_gate.download(), sum) << name << " add_into";
  }
}

TEST(CudaTrainKernels, EmbeddingForwardBackward) {
  SKIP_WITHOUT_GPU();
  const int64_t vocab = 50, rows = 40;
  std::mt19937 rng(51);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(vocab) - 1);
  std::vector<int32_t> tokens(rows);
  for (int32_t& t : tokens) t = token(rng);
  tokens[5] = tokens[6] = tokens[30] = tokens[39] = 3;  // repeated: added in row order
  tokens[0] = 0;
  tokens[1] = static_cast<int32_t>(vocab) - 1;
  for (const int64_t dim : {int64_t{1}, int64_t{64}, int64_t{300}}) {
    const std::string name = "dim = " + std::to_string(dim);
    const std::vector<float> table = random_normal(vocab * dim, 52);
    const std::vector<float> d_out = random_normal(rows * dim, 53);
    std::vector<float> out(rows * dim);
    std::vector<float> d_table = random_normal(vocab * dim, 54);  // accumulated into
    const std::vector<float> d_table_init = d_table;
    train::embedding_forward<float>(out.data(), table.data(), tokens.data(), rows, dim);
    train::embedding_backward<float>(d_table.data(), d_out.data(), tokens.data(), rows, dim);

    DeviceBuffer<float> g_table(table), g_out(rows * dim), g_d_out(d_out), g_d_table(d_table_init);
    DeviceBuffer<int32_t> g_tokens(tokens);
    gpu::embedding_forward(g_out.get(), g_table.get(), g_tokens.get(), rows, dim, nullptr);
    EXPECT_EQ(g_out.download(), out) << name;
    gpu::embedding_backward(g_d_table.get(), g_d_out.get(), g_tokens.get(), rows, dim, nullptr);
    EXPECT_EQ(g_d_table.download(), d_table) << name;
  }
}

TEST(CudaTrainKernels, CrossEntropy) {
  SKIP_WITHOUT_GPU();
  const int64_t rows = 6;
  const float d_loss = 1.0f / 4.0f;  // a mean over the 4 rows with a target
  for (const int64_t vocab : {int64_t{1}, int64_t{5}, int64_t{1000}, int64_t{16384}}) {
    const std::string name = "vocab = " + std::to_string(vocab);
    const int32_t v = static_cast<int32_t>(vocab);
    const std::vector<int32_t> targets = {3 % v, -1, 0, v - 1, -1, 7 % v};
    std::vector<float> logits = random_normal(rows * vocab, 61, 3.0f);
    for (int64_t i = 0; i < vocab; ++i) logits[2 * vocab + i] -= 50.0f;  // every logit < 0
    DeviceBuffer<int32_t> g_targets(targets);

    // Forward and backward in one pass.
    std::vector<float> d_logits(rows * vocab), losses(rows);
    train::cross_entropy_forward_backward<float>(d_logits.data(), losses.data(), logits.data(),
                                                 targets.data(), d_loss, rows, vocab);
    DeviceBuffer<float> g_logits(logits), g_d_logits(rows * vocab), g_losses(rows);
    gpu::cross_entropy(g_d_logits.get(), g_losses.get(), g_logits.get(), g_targets.get(), d_loss,
                       true, rows, vocab, nullptr);
    expect_close(g_d_logits.download(), d_logits, 1e-5, name + " d_logits");
    expect_close(g_losses.download(), losses, 1e-5, name + " losses");
    // d_logits aliasing logits.
    gpu::cross_entropy(g_logits.get(), g_losses.get(), g_logits.get(), g_targets.get(), d_loss,
                       true, rows, vocab, nullptr);
    expect_close(g_logits.download(), d_logits, 1e-5, name + " d_logits in place");
    expect_close(g_losses.download(), losses, 1e-5, name + " losses in place");

    // Forward only, in place: the softmax; rows without a target keep their logits.
    std::vector<float> probs = logits, forward_losses(rows);
    train::cross_entropy_forward<float>(probs.data(), forward_losses.data(), probs.data(),
                                        targets.data(), rows, vocab);
    DeviceBuffer<float> g_probs(logits), g_forward_losses(rows);
    gpu::cross_entropy(g_probs.get(), g_forward_losses.get(), g_probs.get(), g_targets.get(), 0.0f,
                       false, rows, vocab, nullptr);
    expect_close(g_probs.download(), probs, 1e-5, name + " probs");
    expect_close(g_forward_losses.download(), forward_losses, 1e-5, name + " forward losses");
  }
}

TEST(CudaTrainKernels, TttScanForwardBackward) {
  SKIP_WITHOUT_GPU();
  struct Shape {
    int64_t n_seqs, seq_len, d;
  };
  const Shape shapes[] = {{1, 1, 8},   {2, 5, 1},    {3, 33, 8},   {2, 33, 32},
                          {2, 33, 64}, {2, 33, 100}, {1, 33, 256}, {4, 1, 32}};
  const float eta = 0.5f;
  constexpr int kSlots = 2;
  for (const Shape& s : shapes) {
    const std::string name = "n_seqs " + std::to_string(s.n_seqs) + ", T " +
                             std::to_string(s.seq_len) + ", d " + std::to_string(s.d);
    const int64_t n = s.n_seqs * s.seq_len * s.d;
    // f as the model feeds it: unit rows (the scan is stable for η < 2).
    std::vector<float> f = random_normal(n, 71);
    for (int64_t r = 0; r < s.n_seqs * s.seq_len; ++r) {
      float* row = f.data() + r * s.d;
      double sum = 0;
      for (int64_t i = 0; i < s.d; ++i) sum += static_cast<double>(row[i]) * row[i];
      const float inverse = static_cast<float>(1.0 / std::sqrt(sum));
      for (int64_t i = 0; i < s.d; ++i) row[i] *= inverse;
    }
    const std::vector<float> d_p = random_normal(n, 72);
    std::vector<float> p(n), d_f(n);
    std::vector<float> cpu_scratch(
        std::max(train::ttt_scan_forward_scratch_size(s.d, kSlots),
                 train::ttt_scan_backward_scratch_size(s.seq_len, s.d, kSlots)));
    train::ttt_scan_forward<float>(p.data(), f.data(), s.n_seqs, s.seq_len, s.d, eta,
                                   cpu_scratch.data(), kSlots);
    train::ttt_scan_backward<float>(d_f.data(), d_p.data(), f.data(), s.n_seqs, s.seq_len, s.d, eta,
                                    cpu_scratch.data(), kSlots);

    DeviceBuffer<float> g_f(f), g_d_p(d_p), g_p(n), g_d_f(n);
    DeviceBuffer<float> g_forward_scratch(gpu::ttt_scan_forward_scratch(s.n_seqs, s.d));
    DeviceBuffer<float> g_backward_scratch(
        gpu::ttt_scan_backward_scratch(s.n_seqs, s.seq_len, s.d));
    g_forward_scratch.poison();  // the kernels must not read scratch they did not write
    g_backward_scratch.poison();
    gpu::ttt_scan_forward(g_p.get(), g_f.get(), s.n_seqs, s.seq_len, s.d, eta,
                          g_forward_scratch.get(), nullptr);
    const std::vector<float> got_p = g_p.download();
    expect_close(got_p, p, 2e-5, name + " p");
    gpu::ttt_scan_backward(g_d_f.get(), g_d_p.get(), g_f.get(), s.n_seqs, s.seq_len, s.d, eta,
                           g_backward_scratch.get(), nullptr);
    const std::vector<float> got_d_f = g_d_f.download();
    expect_close(got_d_f, d_f, 1e-4, name + " d_f");

    // Deterministic: a second run (on used scratch) gives the same bits.
    gpu::ttt_scan_forward(g_p.get(), g_f.get(), s.n_seqs, s.seq_len, s.d, eta,
                          g_forward_scratch.get(), nullptr);
    gpu::ttt_scan_backward(g_d_f.get(), g_d_p.get(), g_f.get(), s.n_seqs, s.seq_len, s.d, eta,
                           g_backward_scratch.get(), nullptr);
    EXPECT_EQ(g_p.download(), got_p) << name;
    EXPECT_EQ(g_d_f.download(), got_d_f) << name;
  }
}

// A flat parameter buffer of one matrix and one vector (weight decay on the matrix only).
ModelParams two_tensor_params(int64_t matrix_count, int64_t vector_count,
                              std::vector<float> values) {
  ModelParams params;
  ParamEntry matrix;
  matrix.name = "matrix";
  matrix.shape = {1, matrix_count};
  matrix.offset = 0;
  matrix.count = static_cast<size_t>(matrix_count);
  matrix.is_matrix = true;
  ParamEntry vector;
  vector.name = "vector";
  vector.shape = {vector_count};
  vector.offset = static_cast<size_t>(matrix_count);
  vector.count = static_cast<size_t>(vector_count);
  vector.is_matrix = false;
  params.entries = {matrix, vector};
  params.values = std::move(values);
  return params;
}

TEST(CudaTrainKernels, AdamW) {
  SKIP_WITHOUT_GPU();
  const int64_t matrix_count = 100003, vector_count = 1000;
  const int64_t n = matrix_count + vector_count;
  ModelParams params = two_tensor_params(matrix_count, vector_count, random_normal(n, 81, 0.05f));
  const ModelParams grads = two_tensor_params(matrix_count, vector_count, random_normal(n, 82));
  AdamWState state = make_adamw_state(params);
  state.exp_avg = random_normal(n, 83, 0.1f);
  state.exp_avg_sq = random_normal(n, 84, 0.1f);
  for (float& v : state.exp_avg_sq) v = v * v;
  state.step = 4;
  const AdamWConfig config;
  const double lr = 3e-3;

  DeviceBuffer<float> g_params(params.values), g_grads(grads.values), g_m(state.exp_avg),
      g_v(state.exp_avg_sq);
  adamw_step(params, grads, state, config, lr);  // step 5

  // The constants adamw_step used (update 5), per tensor as adamw_step applies them.
  const AdamWStepConstants k = adamw_step_constants(config, state.step, lr);
  for (const ParamEntry& entry : params.entries) {
    const float decay = entry.is_matrix ? k.matrix_decay : 0.0f;
    gpu::adamw(g_params.get() + entry.offset, g_grads.get() + entry.offset,
               g_m.get() + entry.offset, g_v.get() + entry.offset,
               static_cast<int64_t>(entry.count), k.beta1, k.beta2, k.step_size, k.inv_sqrt_bias2,
               k.eps, decay, nullptr);
  }
  expect_close(g_params.download(), params.values, 1e-6, "params");
  expect_close(g_m.download(), state.exp_avg, 1e-6, "exp_avg");
  expect_close(g_v.download(), state.exp_avg_sq, 1e-6, "exp_avg_sq");
}

TEST(CudaTrainKernels, SumOfSquaresAndScale) {
  SKIP_WITHOUT_GPU();
  for (const int64_t n : {int64_t{0}, int64_t{1}, int64_t{1000}, int64_t{3000017}}) {
    const std::string name = "n = " + std::to_string(n);
    ModelParams grads = two_tensor_params(n, 0, random_normal(n, 91, 0.3f));
    const double norm = gradient_norm(grads);

    DeviceBuffer<float> g_values(grads.values);
    DeviceBuffer<double> g_sum(1);
    gpu::sum_of_squares(g_values.get(), n, g_sum.get(), nullptr);
    const double sum = g_sum.download()[0];
    // Double sums in two orders (a float sum would be ~1e-4 off).
    EXPECT_LE(std::fabs(std::sqrt(sum) - norm), 1e-10 * norm) << name;

    // clip_gradients' factor, applied to every value: one multiplication, bit for bit.
    if (n == 0) continue;
    const double max_norm = norm / 3;
    const float factor = clip_factor(norm, max_norm);
    clip_gradients(grads, max_norm);
    gpu::scale(g_values.get(), n, factor, nullptr);
    EXPECT_EQ(g_values.download(), grads.values) << name;
  }
}

}  // namespace
}  // namespace bit_ttt

#endif  // BIT_TTT_HAVE_CUDA
