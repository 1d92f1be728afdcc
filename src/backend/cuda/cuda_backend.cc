// Backend on one NVIDIA GPU: every op is a kernel of kernels/cuda (or cuBLAS for
// batched float heads) enqueued on the backend's one stream, so ops of a forward
// pass run in order without host synchronisation; only download() waits.
// Scratch the ops need (quantized activations, ids, half inputs) is one growing
// buffer set, used under a mutex so server slots may call from several threads.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_util.h"
#include "bit_ttt/error.h"
#include "kernels/cuda/cuda_kernels.h"

namespace bit_ttt::cuda {
namespace {

constexpr const char* kFewerLayersHint = "put fewer blocks on the GPU: --n-gpu-layers N or auto";

int dense_kernel_dtype(DenseDType dtype) {
  switch (dtype) {
    case DenseDType::f32:
      return 0;
    case DenseDType::f16:
      return 1;
    case DenseDType::bf16:
      return 2;
    case DenseDType::i8_row:
      return 3;
  }
  return 0;
}

int64_t n_rows(const Tensor& t) {
  return t.rank() == 1 ? 1 : t.dim(0);
}
int64_t n_cols(const Tensor& t) {
  return t.shape().back();
}
void check_on_gpu(const Tensor& t) {
  BT_CHECK(t.device() == Device::cuda && !t.empty());
}

// A device buffer that only grows; `epoch` counts moves of any such buffer
// (recordings that used the old one are stale).
struct Scratch {
  std::shared_ptr<void> memory;
  size_t n_bytes = 0;
  template <typename T>
  T* get(size_t count, const char* what, std::atomic<uint64_t>& epoch) {
    const size_t need = count * sizeof(T);
    if (need > n_bytes) {
      memory.reset();
      memory = allocate(need, what, kFewerLayersHint);
      n_bytes = need;
      epoch.fetch_add(1);
    }
    return static_cast<T*>(memory.get());
  }
};

// Batched float heads (prefill) go to cuBLAS from this many rows; fewer rows
// (decode) use the warp-per-row kernel, which reads each weight once.
constexpr int64_t kCublasMinRows = 16;

class CudaBackend final : public Backend {
 public:
  CudaBackend() {
    description_ = use_first_gpu();
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check_cublas(cublasCreate(&cublas_), "cublasCreate");
    check_cublas(cublasSetStream(cublas_, stream_), "cublasSetStream");
  }
  ~CudaBackend() override {  // not reached: the instance is never destroyed (backend())
    cublasDestroy(cublas_);
    cudaStreamDestroy(stream_);
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  Device device() const override { return Device::cuda; }
  std::string description() const override { return description_; }

  Tensor empty(DType dtype, std::vector<int64_t> shape) override {
    Tensor shaped(dtype, shape, Device::cuda, nullptr, nullptr);
    std::shared_ptr<void> memory = allocate(shaped.n_bytes(), "a tensor", kFewerLayersHint);
    std::lock_guard lock(mutex_);
    check(cudaMemsetAsync(memory.get(), 0, shaped.n_bytes(), stream_), "cudaMemsetAsync");
    return Tensor(dtype, std::move(shape), Device::cuda, memory.get(), memory);
  }

  Tensor upload(const Tensor& host) override {
    if (host.device() == Device::cuda) return host;
    Tensor result = empty(host.dtype(), host.shape());
    copy_bytes(result.raw(), host.raw(), host.n_bytes(), cudaMemcpyHostToDevice);
    return result;
  }

  void download(const Tensor& source, void* host_destination) override {
    check_on_gpu(source);
    copy_bytes(host_destination, source.raw(), source.n_bytes(), cudaMemcpyDeviceToHost);
  }

  void copy(const Tensor& source, Tensor& destination) override {
    BT_CHECK(source.n_bytes() == destination.n_bytes());
    const bool from_gpu = source.device() == Device::cuda,
               to_gpu = destination.device() == Device::cuda;
    const cudaMemcpyKind kind = from_gpu
                                    ? (to_gpu ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost)
                                    : (to_gpu ? cudaMemcpyHostToDevice : cudaMemcpyHostToHost);
    copy_bytes(destination.raw(), source.raw(), source.n_bytes(), kind);
  }

  TernaryWeight prepare_ternary(const Tensor& latent_host, TernaryFormat) override {
    // Quantize on the host (β is a double sum over the whole tensor), then upload.
    const TernaryWeight host = cpu_backend().prepare_ternary(latent_host, TernaryFormat::i2);
    return upload_ternary(host.packed, host.beta, host.storage);
  }

  TernaryWeight upload_ternary(const TernaryMatrixView& packed_host, float beta,
                               std::shared_ptr<const void>) override {
    TernaryMatrixView source = packed_host;
    PackedTernary repacked;
    if (source.format != TernaryFormat::i2) {  // the kernels read i2 only
      std::vector<int8_t> codes(static_cast<size_t>(source.n_out * source.n_in));
      unpack_ternary(source, codes.data());
      repacked = pack_ternary(TernaryFormat::i2, codes.data(), source.n_out, source.n_in, beta);
      source = repacked.view();
    }
    const size_t n_bytes = static_cast<size_t>(source.n_out * source.row_stride_bytes);
    std::shared_ptr<void> memory = allocate(n_bytes, "ternary weights", kFewerLayersHint);
    copy_bytes(memory.get(), source.data, n_bytes, cudaMemcpyHostToDevice);
    TernaryMatrixView view = source;
    view.data = static_cast<const uint8_t*>(memory.get());
    return {view, beta, view.n_out, view.n_in, memory};
  }

  DenseWeight prepare_dense(const Tensor& host, DenseDType dtype) override {
    BT_CHECK(host.device() == Device::cpu && host.rank() == 2 && host.dtype() == DType::f32);
    const DenseMatrix matrix = convert_dense(dtype, host.data<float>(), host.dim(0), host.dim(1));
    return upload_dense(matrix.view(), nullptr);
  }

  DenseWeight upload_dense(const DenseMatrixView& host, std::shared_ptr<const void>) override {
    const size_t data_bytes =
        static_cast<size_t>(host.n_out * host.n_in) * dense_element_bytes(host.dtype);
    const size_t scale_bytes =
        host.dtype == DenseDType::i8_row ? static_cast<size_t>(host.n_out) * sizeof(float) : 0;
    const size_t scale_offset = (data_bytes + 255) / 256 * 256;
    std::shared_ptr<void> memory =
        allocate(scale_offset + scale_bytes, "a dense matrix", kFewerLayersHint);
    std::byte* base = static_cast<std::byte*>(memory.get());
    copy_bytes(base, host.data, data_bytes, cudaMemcpyHostToDevice);
    DenseMatrixView view = host;
    view.data = base;
    if (scale_bytes) {
      copy_bytes(base + scale_offset, host.row_scales, scale_bytes, cudaMemcpyHostToDevice);
      view.row_scales = reinterpret_cast<const float*>(base + scale_offset);
    }
    return {view, memory};
  }

  void embedding(const DenseWeight& table, std::span<const int32_t> ids, Tensor& out) override {
    check_on_gpu(out);
    const DenseMatrixView& m = table.matrix;
    BT_CHECK(out.numel() == static_cast<int64_t>(ids.size()) * m.n_in);
    for (int32_t id : ids)
      if (id < 0 || id >= m.n_out)
        fail("token id ", id, " is outside the model's vocabulary [0, ", m.n_out, ")");
    std::lock_guard lock(mutex_);
    int32_t* device_ids = ids_.get<int32_t>(ids.size(), "token ids", epoch_);
    // From pageable memory the copy is staged before cudaMemcpyAsync returns, so
    // the caller may reuse `ids` at once without a stream synchronisation.
    check(
        cudaMemcpyAsync(device_ids, ids.data(), ids.size_bytes(), cudaMemcpyHostToDevice, stream_),
        "cudaMemcpyAsync (ids)");
    cuda::embedding(dense_kernel_dtype(m.dtype), m.data, m.row_scales, m.n_in, device_ids,
                    static_cast<int64_t>(ids.size()), out.data<float>(), stream_);
    check_launch("embedding");
  }

  void embedding_from_device(const DenseWeight& table, const Tensor& ids, Tensor& out) override {
    check_on_gpu(out);
    check_on_gpu(ids);
    const DenseMatrixView& m = table.matrix;
    BT_CHECK(ids.dtype() == DType::i32 && out.numel() == ids.numel() * m.n_in);
    std::lock_guard lock(mutex_);
    cuda::embedding(dense_kernel_dtype(m.dtype), m.data, m.row_scales, m.n_in, ids.data<int32_t>(),
                    ids.numel(), out.data<float>(), stream_);
    check_launch("embedding");
  }

  bool can_record() const override { return true; }

  void begin_recording() override {
    mutex_.lock();  // held until end_recording: no other thread's op may join the graph
    const cudaError_t status = cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal);
    if (status != cudaSuccess) {
      mutex_.unlock();
      check(status, "cudaStreamBeginCapture");
    }
  }

  std::shared_ptr<void> end_recording() override {
    cudaGraph_t graph = nullptr;
    const cudaError_t ended = cudaStreamEndCapture(stream_, &graph);
    mutex_.unlock();
    check(ended, "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t made = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    check(made, "cudaGraphInstantiate");
    return std::shared_ptr<void>(
        exec, [](void* e) { cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(e)); });
  }

  void replay(const std::shared_ptr<void>& recording) override {
    BT_CHECK(recording != nullptr);
    std::lock_guard lock(mutex_);
    check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(recording.get()), stream_),
          "cudaGraphLaunch");
  }

  uint64_t scratch_epoch() const override { return epoch_.load(); }

  bool can_sample() const override { return true; }

  int32_t sample(const Tensor& logits, const SamplingParams& params,
                 std::span<const int32_t> penalty_window, int32_t n_allowed,
                 double uniform) override {
    check_on_gpu(logits);
    BT_CHECK(n_rows(logits) == 1 && n_allowed >= 1 && n_allowed <= n_cols(logits));
    const auto n = static_cast<size_t>(n_allowed);
    std::lock_guard lock(mutex_);
    // Sampling's scratch is never part of a recording, so it does not move epoch_.
    const bool counts_grow = sample_counts_.n_bytes < n * sizeof(int32_t);
    SampleScratch scratch{sample_work_.get<float>(n, "sampling scratch", sample_epoch_),
                          sample_weights_.get<double>(n, "sampling weights", sample_epoch_),
                          sample_counts_.get<int32_t>(n, "sampling counts", sample_epoch_)};
    if (counts_grow)  // the kernel keeps the counts at zero from here on
      check(cudaMemsetAsync(scratch.counts, 0, n * sizeof(int32_t), stream_), "cudaMemsetAsync");
    int32_t* window = nullptr;
    if (!penalty_window.empty()) {
      window = sample_window_.get<int32_t>(penalty_window.size(), "penalty window", sample_epoch_);
      check(cudaMemcpyAsync(window, penalty_window.data(), penalty_window.size_bytes(),
                            cudaMemcpyHostToDevice, stream_),
            "cudaMemcpyAsync (penalty window)");
    }
    int32_t* device_token = sample_token_.get<int32_t>(1, "the sampled token", sample_epoch_);
    const SampleArgs args{n_allowed,
                          params.temperature,
                          params.top_k,
                          params.top_p,
                          params.min_p,
                          params.repetition_penalty,
                          params.frequency_penalty,
                          params.presence_penalty,
                          uniform};
    cuda::sample_token(logits.data<float>(), window, static_cast<int32_t>(penalty_window.size()),
                       args, scratch, device_token, stream_);
    check_launch("sample_token");
    int32_t token = -1;
    copy_bytes(&token, device_token, sizeof(token), cudaMemcpyDeviceToHost);
    return token;
  }

  void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) override {
    check_on_gpu(x);
    BT_CHECK(weight.numel() == n_cols(x) && out.numel() == x.numel());
    std::lock_guard lock(mutex_);
    cuda::rms_norm(x.data<float>(), weight.data<float>(), eps, n_rows(x), n_cols(x),
                   out.data<float>(), stream_);
    check_launch("rms_norm");
  }

  // Projections of one input: one activation quantization, then one kernel each.
  void bit_linears(const Tensor& x, std::span<const TernaryWeight* const> weights,
                   ActivationQuant mode, std::span<Tensor* const> outs) override {
    check_on_gpu(x);
    const int64_t rows = n_rows(x), n_in = n_cols(x);
    for (size_t i = 0; i < weights.size(); ++i) {
      check_on_gpu(*outs[i]);
      BT_CHECK(weights[i]->n_in == n_in && outs[i]->numel() == rows * weights[i]->n_out);
      BT_CHECK(weights[i]->packed.format == TernaryFormat::i2);
    }
    std::lock_guard lock(mutex_);
    if (mode == ActivationQuant::int8) {
      const int64_t stride = weights[0]->packed.row_stride_bytes, padded = stride * 4;
      int8_t* xq =
          xq_.get<int8_t>(static_cast<size_t>(rows * padded), "quantized activations", epoch_);
      float* gammas = gammas_.get<float>(static_cast<size_t>(rows), "activation scales", epoch_);
      int32_t* sums = row_sums_.get<int32_t>(static_cast<size_t>(rows), "activation sums", epoch_);
      cuda::quantize_rows_i8(x.data<float>(), rows, n_in, padded, xq, gammas, sums, stream_);
      for (size_t i = 0; i < weights.size(); ++i) {
        const TernaryWeight& w = *weights[i];
        cuda::ternary_gemm_i8(w.packed.data, w.n_out, stride, xq, sums, gammas, w.beta, rows,
                              outs[i]->data<float>(), stream_);
      }
    } else {
      for (size_t i = 0; i < weights.size(); ++i) {
        const TernaryWeight& w = *weights[i];
        cuda::ternary_gemm_f32(w.packed.data, w.n_out, w.packed.row_stride_bytes, x.data<float>(),
                               rows, n_in, w.beta, outs[i]->data<float>(), stream_);
      }
    }
    check_launch("bit_linear");
  }

  void dense_linear(const Tensor& x, const DenseWeight& weight, Tensor& out) override {
    check_on_gpu(x);
    check_on_gpu(out);
    const DenseMatrixView& w = weight.matrix;
    const int64_t rows = n_rows(x);
    BT_CHECK(n_cols(x) == w.n_in && out.numel() == rows * w.n_out);
    std::lock_guard lock(mutex_);
    if (w.dtype == DenseDType::i8_row) {
      const int64_t padded = (w.n_in + 3) / 4 * 4;
      int8_t* xq =
          xq_.get<int8_t>(static_cast<size_t>(rows * padded), "quantized activations", epoch_);
      float* gammas = gammas_.get<float>(static_cast<size_t>(rows), "activation scales", epoch_);
      cuda::quantize_rows_i8(x.data<float>(), rows, w.n_in, padded, xq, gammas, nullptr, stream_);
      cuda::dense_gemm_i8(static_cast<const int8_t*>(w.data), w.row_scales, w.n_out, w.n_in, xq,
                          padded, gammas, rows, out.data<float>(), stream_);
    } else if (rows < kCublasMinRows) {
      cuda::dense_gemm_float(dense_kernel_dtype(w.dtype), w.data, w.n_out, w.n_in, x.data<float>(),
                             rows, out.data<float>(), stream_);
    } else {
      cublas_head(x, w, rows, out);
    }
    check_launch("dense_linear");
  }

  void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) override {
    check_on_gpu(gate);
    BT_CHECK(gate.numel() == up.numel() && out.numel() == gate.numel());
    std::lock_guard lock(mutex_);
    cuda::swiglu(gate.data<float>(), up.data<float>(), gate.numel(), out.data<float>(), stream_);
    check_launch("swiglu");
  }

  void add_in_place(Tensor& accumulator, const Tensor& delta) override {
    check_on_gpu(accumulator);
    BT_CHECK(accumulator.numel() == delta.numel());
    std::lock_guard lock(mutex_);
    cuda::add_in_place(accumulator.data<float>(), delta.data<float>(), accumulator.numel(),
                       stream_);
    check_launch("add_in_place");
  }

  void l2_normalize_rows(Tensor& x, float eps) override {
    check_on_gpu(x);
    std::lock_guard lock(mutex_);
    cuda::l2_normalize_rows(x.data<float>(), n_rows(x), n_cols(x), eps, stream_);
    check_launch("l2_normalize_rows");
  }

  void ttt_scan(const Tensor& f, float eta, Tensor& state, Tensor& predictions) override {
    check_on_gpu(f);
    const int64_t steps = n_rows(f), d = n_cols(f);
    BT_CHECK(state.numel() == d * d && predictions.numel() == steps * d);
    if (d > kMaxTttDim)
      fail("the CUDA TTT scan supports ttt_dim up to ", kMaxTttDim, ", got ", d,
           " (run this model on the CPU)");
    std::lock_guard lock(mutex_);
    cuda::ttt_scan(f.data<float>(), steps, d, eta, state.data<float>(), predictions.data<float>(),
                   stream_);
    check_launch("ttt_scan");
  }

 private:
  void check_launch(const char* what) { check(cudaGetLastError(), what); }

  // A copy in stream order. Host memory here is pageable: a copy from it is staged
  // before cudaMemcpyAsync returns (the caller may reuse it at once), and a copy to
  // it is waited for.
  void copy_bytes(void* destination, const void* source, size_t n_bytes, cudaMemcpyKind kind) {
    if (n_bytes == 0) return;
    if (kind == cudaMemcpyHostToHost) {
      std::memmove(destination, source, n_bytes);
      return;
    }
    std::lock_guard lock(mutex_);
    check(cudaMemcpyAsync(destination, source, n_bytes, kind, stream_), "cudaMemcpyAsync");
    if (kind == cudaMemcpyDeviceToHost)
      check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

  // out [rows, n_out] = x [rows, n_in] · Wᵀ, W row-major [n_out, n_in]. Column-major,
  // W is an n_in × n_out matrix and x an n_in × rows one, so C (n_out × rows,
  // which is out row-major) = op_T(W) · x.
  void cublas_head(const Tensor& x, const DenseMatrixView& w, int64_t rows, Tensor& out) {
    const float alpha = 1.0f, zero = 0.0f;
    const void* input = x.data<float>();
    cudaDataType_t type = CUDA_R_32F;
    if (w.dtype != DenseDType::f32) {  // tensor cores take both operands in the weight's type
      type = w.dtype == DenseDType::f16 ? CUDA_R_16F : CUDA_R_16BF;
      void* converted =
          half_x_.get<uint16_t>(static_cast<size_t>(rows * w.n_in), "head input", epoch_);
      cuda::convert_f32_to_half(dense_kernel_dtype(w.dtype), x.data<float>(), rows * w.n_in,
                                converted, stream_);
      input = converted;
    }
    check_cublas(cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(w.n_out),
                              static_cast<int>(rows), static_cast<int>(w.n_in), &alpha, w.data,
                              type, static_cast<int>(w.n_in), input, type, static_cast<int>(w.n_in),
                              &zero, out.data<float>(), CUDA_R_32F, static_cast<int>(w.n_out),
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx (LM head)");
  }

  std::string description_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  std::recursive_mutex mutex_;
  Scratch xq_, gammas_, row_sums_, half_x_, ids_;
  std::atomic<uint64_t> epoch_{0};
  Scratch sample_work_, sample_weights_, sample_counts_, sample_window_, sample_token_;
  std::atomic<uint64_t> sample_epoch_{0};
};

}  // namespace

std::string unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorInsufficientDriver) {
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    if (driver == 0) return "no NVIDIA driver found (this machine has no usable GPU)";
    return concat("the NVIDIA driver supports CUDA ", driver / 1000, ".", driver % 1000 / 10,
                  " but this build needs CUDA ", runtime / 1000, ".", runtime % 1000 / 10,
                  " (update the driver)");
  }
  if (status == cudaErrorNoDevice || (status == cudaSuccess && count == 0))
    return "no CUDA GPU found on this machine";
  if (status != cudaSuccess)
    return concat("CUDA cannot start: ", cudaGetErrorName(status), " (", cudaGetErrorString(status),
                  ")");
  return "";
}

Backend& backend() {
  static std::mutex init_mutex;
  // Never destroyed: device tensors of static objects may outlive any destructor
  // order we could choose, and the CUDA runtime tears itself down at exit.
  static CudaBackend* instance = nullptr;
  std::lock_guard lock(init_mutex);
  if (!instance) {
    const std::string reason = unavailable_reason();
    if (!reason.empty()) fail("device 'cuda' is not available: ", reason, " (use --device cpu)");
    instance = new CudaBackend();
  }
  return *instance;
}

std::optional<DeviceMemoryInfo> memory_info() {
  if (!unavailable_reason().empty()) return std::nullopt;
  check(cudaSetDevice(0), "cudaSetDevice");
  size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  return DeviceMemoryInfo{static_cast<int64_t>(free_bytes), static_cast<int64_t>(total_bytes)};
}

}  // namespace bit_ttt::cuda
