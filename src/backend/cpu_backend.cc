// CPU implementation of the Backend seam: kernels/cpu row kernels spread over the
// default thread pool. Work is split over output rows (weight rows for linears),
// so each output value is computed by exactly one thread in a fixed order.
#include <algorithm>
#include <cstring>
#include <memory>

#include "backend/backend.h"
#include "bit_ttt/error.h"
#include "core/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/dense_kernels.h"
#include "kernels/cpu/ternary_kernels.h"
#include "kernels/ref/ref_kernels.h"

namespace bit_ttt {
namespace {

void check_cpu(const Tensor& t) {
  BT_CHECK(t.device() == Device::cpu && !t.empty());
}

// Rows × columns of a 2-D activation.
int64_t n_rows(const Tensor& t) {
  return t.rank() == 1 ? 1 : t.dim(0);
}
int64_t n_cols(const Tensor& t) {
  return t.shape().back();
}

// Smallest share of a projection worth a thread: weights × activation rows. A
// decode step issues a parallel loop per projection, and waking a worker for the
// 64×256 TTT projections costs more than computing them.
constexpr int64_t kMinChunkWork = 65536;

// Rows of a weight matrix per chunk of a parallel loop (multiple of the kernels'
// 4-row tiles).
int64_t linear_grain(int64_t n_in, int64_t n_rows) {
  const int64_t rows = kMinChunkWork / std::max<int64_t>(1, n_in * n_rows);
  return std::max<int64_t>(16, (rows + 3) / 4 * 4);
}

// Projections of the same input x [rows, n_in], all parallel over the weights' rows
// concatenated (one loop, so two small projections still fill both cores).
// int8 mode: each row of x is quantized once (γ), the packed kernels return exact
// int32 sums, scaled by β·γ/127. none: float sums scaled by β.
void cpu_bit_linears(const Tensor& x, std::span<const TernaryWeight* const> weights,
                     ActivationQuant mode, std::span<Tensor* const> outs) {
  check_cpu(x);
  const int64_t rows = n_rows(x), n_in = n_cols(x);
  int64_t total_out = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    check_cpu(*outs[i]);
    BT_CHECK(weights[i]->n_in == n_in && outs[i]->numel() == rows * weights[i]->n_out);
    total_out += weights[i]->n_out;
  }
  const float* in = x.data<float>();
  // Scratch is per calling thread so independent forwards (server slots) can run
  // concurrently; plain pointers, because a lambda running on a worker must not
  // name the caller's thread_locals.
  thread_local std::vector<int8_t> quantized;
  thread_local std::vector<float> gammas;
  thread_local std::vector<int32_t> sums;
  int8_t* xq = nullptr;
  float* row_gammas = nullptr;
  int32_t* int_sums = nullptr;
  if (mode == ActivationQuant::int8) {
    quantized.resize(static_cast<size_t>(rows * n_in));
    gammas.resize(static_cast<size_t>(rows));
    sums.resize(static_cast<size_t>(rows * total_out));
    xq = quantized.data();
    row_gammas = gammas.data();
    int_sums = sums.data();
    default_thread_pool().parallel_for(rows, 8, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        row_gammas[r] = cpu::ternary_quantize_row_i8(in + r * n_in, n_in, xq + r * n_in);
    });
  }
  default_thread_pool().parallel_for(
      total_out, linear_grain(n_in, rows), [&](int64_t begin, int64_t end) {
        int64_t first = 0;  // index of weights[i]'s first row in the concatenation
        for (size_t i = 0; i < weights.size(); ++i) {
          const TernaryWeight& w = *weights[i];
          const int64_t lo = std::max(begin, first) - first,
                        hi = std::min(end, first + w.n_out) - first;
          float* out = outs[i]->data<float>();
          if (lo < hi) {
            if (mode == ActivationQuant::int8) {
              int32_t* sum = int_sums + first * rows;  // this weight's [rows, n_out] block
              cpu::ternary_gemm_i8(w.packed, xq, rows, lo, hi, sum);
              for (int64_t r = 0; r < rows; ++r) {
                const float scale = w.beta * row_gammas[r] / 127.0f;
                for (int64_t o = lo; o < hi; ++o)
                  out[r * w.n_out + o] = scale * static_cast<float>(sum[r * w.n_out + o]);
              }
            } else {
              cpu::ternary_gemm_f32(w.packed, in, rows, lo, hi, out);
              for (int64_t r = 0; r < rows; ++r)
                for (int64_t o = lo; o < hi; ++o) out[r * w.n_out + o] *= w.beta;
            }
          }
          first += w.n_out;
        }
      });
}

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu; }
  std::string description() const override {
    return concat("cpu (", cpu::simd_name(), ", ", default_thread_pool().n_threads(), " threads)");
  }

  Tensor empty(DType dtype, std::vector<int64_t> shape) override {
    return Tensor::zeros_cpu(dtype, std::move(shape));
  }
  Tensor upload(const Tensor& host) override { return host; }
  void download(const Tensor& source, void* host_destination) override {
    check_cpu(source);
    std::memcpy(host_destination, source.raw(), source.n_bytes());
  }
  void copy(const Tensor& source, Tensor& destination) override {
    BT_CHECK(source.n_bytes() == destination.n_bytes());
    if (source.device() != Device::cpu || destination.device() != Device::cpu) {
      // Cross-device copies are done by the device backend.
      backend_for(source.device() == Device::cpu ? destination.device() : source.device())
          .copy(source, destination);
      return;
    }
    std::memmove(destination.raw(), source.raw(), source.n_bytes());
  }

  TernaryWeight prepare_ternary(const Tensor& latent_host, TernaryFormat format) override {
    check_cpu(latent_host);
    BT_CHECK(latent_host.rank() == 2 && latent_host.dtype() == DType::f32);
    const int64_t n_out = latent_host.dim(0), n_in = latent_host.dim(1);
    std::vector<int8_t> codes(static_cast<size_t>(n_out * n_in));
    const float beta =
        ref::ternary_quantize(latent_host.data<float>(), latent_host.numel(), codes.data());
    auto packed =
        std::make_shared<PackedTernary>(pack_ternary(format, codes.data(), n_out, n_in, beta));
    return {packed->view(), beta, n_out, n_in, packed};
  }

  TernaryWeight upload_ternary(const TernaryMatrixView& packed_host, float beta,
                               std::shared_ptr<const void> owner) override {
    return {packed_host, beta, packed_host.n_out, packed_host.n_in, std::move(owner)};
  }

  DenseWeight prepare_dense(const Tensor& host, DenseDType dtype) override {
    check_cpu(host);
    BT_CHECK(host.rank() == 2 && host.dtype() == DType::f32);
    const int64_t n_out = host.dim(0), n_in = host.dim(1);
    if (dtype == DenseDType::f32) {  // use the (possibly mapped) floats in place
      auto keep = std::make_shared<Tensor>(host);
      return {{DenseDType::f32, n_out, n_in, keep->raw(), nullptr}, keep};
    }
    auto matrix =
        std::make_shared<DenseMatrix>(convert_dense(dtype, host.data<float>(), n_out, n_in));
    return {matrix->view(), matrix};
  }

  DenseWeight upload_dense(const DenseMatrixView& host,
                           std::shared_ptr<const void> owner) override {
    return {host, std::move(owner)};
  }

  void embedding(const DenseWeight& table, std::span<const int32_t> ids, Tensor& out) override {
    check_cpu(out);
    const int64_t n_vocab = table.matrix.n_out, width = table.matrix.n_in;
    BT_CHECK(out.numel() == static_cast<int64_t>(ids.size()) * width);
    for (size_t t = 0; t < ids.size(); ++t) {
      if (ids[t] < 0 || ids[t] >= n_vocab)
        fail("token id ", ids[t], " is outside the model's vocabulary [0, ", n_vocab, ")");
      cpu::dense_row_to_f32(table.matrix, ids[t], out.data<float>() + t * width);
    }
  }

  void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) override {
    check_cpu(x);
    const int64_t rows = n_rows(x), cols = n_cols(x);
    BT_CHECK(weight.numel() == cols && out.numel() == x.numel());
    const float* in = x.data<float>();
    float* result = out.data<float>();
    const float* w = weight.data<float>();
    default_thread_pool().parallel_for(rows, 4, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        cpu::rms_norm_row(in + r * cols, w, eps, cols, result + r * cols);
    });
  }

  void bit_linears(const Tensor& x, std::span<const TernaryWeight* const> weights,
                   ActivationQuant mode, std::span<Tensor* const> outs) override {
    cpu_bit_linears(x, weights, mode, outs);
  }

  void dense_linear(const Tensor& x, const DenseWeight& weight, Tensor& out) override {
    check_cpu(x);
    check_cpu(out);
    const DenseMatrixView& w = weight.matrix;
    const int64_t rows = n_rows(x), n_in = w.n_in, n_out = w.n_out;
    BT_CHECK(n_cols(x) == n_in && out.numel() == rows * n_out);
    const float* in = x.data<float>();
    float* result = out.data<float>();
    if (w.dtype != DenseDType::i8_row) {
      default_thread_pool().parallel_for(
          n_out, linear_grain(n_in, rows),
          [&](int64_t begin, int64_t end) { cpu::dense_gemm(w, in, rows, begin, end, result); });
      return;
    }
    // int8 head: quantize the activations once, then exact integer dots.
    thread_local std::vector<int8_t> quantized;
    thread_local std::vector<float> gammas;
    quantized.resize(static_cast<size_t>(rows * n_in));
    gammas.resize(static_cast<size_t>(rows));
    const int8_t* xq = quantized.data();
    const float* row_gammas = gammas.data();
    cpu::dense_quantize_rows_i8(in, rows, n_in, quantized.data(), gammas.data());
    default_thread_pool().parallel_for(
        n_out, linear_grain(n_in, rows), [&](int64_t begin, int64_t end) {
          cpu::dense_gemm_i8(w, xq, row_gammas, rows, begin, end, result);
        });
  }

  void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) override {
    BT_CHECK(gate.numel() == up.numel() && out.numel() == gate.numel());
    const int64_t rows = n_rows(gate), cols = n_cols(gate);
    const float* g = gate.data<float>();
    const float* u = up.data<float>();
    float* result = out.data<float>();
    default_thread_pool().parallel_for(rows, 4, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        cpu::swiglu_row(g + r * cols, u + r * cols, cols, result + r * cols);
    });
  }

  void add_in_place(Tensor& accumulator, const Tensor& delta) override {
    BT_CHECK(accumulator.numel() == delta.numel());
    float* acc = accumulator.data<float>();
    const float* d = delta.data<float>();
    for (int64_t i = 0, n = accumulator.numel(); i < n; ++i) acc[i] += d[i];
  }

  void l2_normalize_rows(Tensor& x, float eps) override {
    const int64_t rows = n_rows(x), cols = n_cols(x);
    float* data = x.data<float>();
    for (int64_t r = 0; r < rows; ++r) cpu::l2_normalize_row(data + r * cols, cols, eps);
  }

  void ttt_scan(const Tensor& f, float eta, Tensor& state, Tensor& predictions) override {
    const int64_t steps = n_rows(f), d = n_cols(f);
    BT_CHECK(state.numel() == d * d && predictions.numel() == steps * d);
    for (int64_t t = 0; t < steps; ++t)
      cpu::ttt_step(state.data<float>(), f.data<float>() + t * d, d, eta,
                    predictions.data<float>() + t * d);
  }
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace bit_ttt
