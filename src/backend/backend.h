// The device seam. Model code calls these ops on the backend of the device a
// block lives on and never touches memory directly, so a CUDA backend is one more
// implementation of this interface (kernels/cuda) and hybrid placement is a
// per-block choice. Shapes: activations [n_rows, n_cols] row-major; linear
// weights [n_out, n_in].
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bit_ttt/config.h"
#include "bit_ttt/sampler.h"
#include "core/tensor.h"
#include "kernels/ref/dense_ref.h"
#include "kernels/ref/ternary_packed_ref.h"

namespace bit_ttt {

// A BitLinear weight prepared for inference: Wq codes in {-1, 0, +1} packed in a
// kernel layout (kernels/ref/ternary_packed_ref.h) and β. `packed` points into
// memory owned by `storage` (an owned buffer or a mapped .bitt file) on the
// backend's device.
struct TernaryWeight {
  TernaryMatrixView packed;
  float beta = 0.0f;
  int64_t n_out = 0;
  int64_t n_in = 0;
  std::shared_ptr<const void> storage;
};

// The embedding table or the LM head in f32 / f16 / bf16 / int8-per-row storage
// (kernels/ref/dense_ref.h), in memory owned by `storage` on the backend's device.
struct DenseWeight {
  DenseMatrixView matrix;
  std::shared_ptr<const void> storage;
  int64_t n_bytes() const {
    return matrix.n_out * matrix.n_in * static_cast<int64_t>(dense_element_bytes(matrix.dtype)) +
           (matrix.dtype == DenseDType::i8_row ? matrix.n_out * 4 : 0);
  }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual std::string description() const = 0;

  // Memory.
  virtual Tensor empty(DType dtype, std::vector<int64_t> shape) = 0;  // zero-filled
  virtual Tensor upload(const Tensor& host) = 0;  // returns host itself on the CPU
  virtual void download(const Tensor& source, void* host_destination) = 0;
  virtual void copy(const Tensor& source, Tensor& destination) = 0;  // same shape, any devices

  // Weights: quantizes a latent float matrix per spec §3 (β over the whole tensor)
  // and packs the codes in `format`.
  virtual TernaryWeight prepare_ternary(const Tensor& latent_host,
                                        TernaryFormat format = TernaryFormat::i2) = 0;
  // Already packed weights in host memory (a mapped .bitt file) that `owner` keeps
  // alive: zero-copy on the CPU.
  virtual TernaryWeight upload_ternary(const TernaryMatrixView& packed_host, float beta,
                                       std::shared_ptr<const void> owner) = 0;

  // A float matrix [n_out, n_in] stored as `dtype` (f32 on the CPU: zero-copy).
  virtual DenseWeight prepare_dense(const Tensor& host, DenseDType dtype) = 0;
  // Already converted storage in host memory that `owner` keeps alive.
  virtual DenseWeight upload_dense(const DenseMatrixView& host,
                                   std::shared_ptr<const void> owner) = 0;

  // Ops. `out` is preallocated with the right shape on this device.
  virtual void embedding(const DenseWeight& table, std::span<const int32_t> ids, Tensor& out) = 0;
  virtual void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) = 0;
  // BitLinear projections of the same input x [rows, n_in], outs[i] = x·W_iᵀ: one
  // activation quantization for all; each output equals its own single call bit
  // for bit.
  virtual void bit_linears(const Tensor& x, std::span<const TernaryWeight* const> weights,
                           ActivationQuant mode, std::span<Tensor* const> outs) = 0;
  void bit_linear(const Tensor& x, const TernaryWeight& weight, ActivationQuant mode, Tensor& out) {
    const TernaryWeight* weights[] = {&weight};
    Tensor* outs[] = {&out};
    bit_linears(x, weights, mode, outs);
  }
  // Gate and up of the MLP.
  void bit_linear_pair(const Tensor& x, const TernaryWeight& weight_a,
                       const TernaryWeight& weight_b, ActivationQuant mode, Tensor& out_a,
                       Tensor& out_b) {
    const TernaryWeight* weights[] = {&weight_a, &weight_b};
    Tensor* outs[] = {&out_a, &out_b};
    bit_linears(x, weights, mode, outs);
  }
  virtual void dense_linear(const Tensor& x, const DenseWeight& weight, Tensor& out) = 0;
  virtual void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) = 0;
  virtual void add_in_place(Tensor& accumulator, const Tensor& delta) = 0;
  virtual void l2_normalize_rows(Tensor& x, float eps) = 0;
  // Sequential TTT recurrence over the rows of f [T, d]: predictions[t] = S f_t,
  // then S -= η (p_t − f_t) f_tᵀ. `state` is [d, d] and is updated in place.
  virtual void ttt_scan(const Tensor& f, float eta, Tensor& state, Tensor& predictions) = 0;

  // Recording (CUDA graphs): a decode step is ~16 small ops per block, so on a GPU
  // it is bound by launches; recorded once, it replays as one launch. Between
  // begin_recording and end_recording (same thread) ops are recorded, not run, and
  // other threads' ops wait. A recording bakes in every pointer it used, so it is
  // valid while those tensors live and scratch_epoch() is unchanged.
  virtual bool can_record() const { return false; }
  virtual void begin_recording() { BT_CHECK(false); }
  virtual std::shared_ptr<void> end_recording() {
    BT_CHECK(false);
    return nullptr;
  }
  virtual void replay(const std::shared_ptr<void>& recording) { BT_CHECK(recording && false); }
  // Changes whenever the backend's own scratch buffers move.
  virtual uint64_t scratch_epoch() const { return 0; }
  // embedding() with the ids already in an int32 tensor on this device (recordable).
  virtual void embedding_from_device(const DenseWeight& table, const Tensor& ids, Tensor& out) {
    (void)table, (void)ids, (void)out;
    BT_CHECK(false);
  }

  // Sampling where the logits are (a GPU), so a decode step sends back one id instead
  // of V floats: the pipeline of bit_ttt/sampler.h over `logits` [1, V] (ids below
  // n_allowed), with `uniform` drawn by the host's Sampler (next_uniform) and the
  // validated penalty window (empty: penalties off). Returns −1 when no allowed
  // logit is finite.
  virtual bool can_sample() const { return false; }
  virtual int32_t sample(const Tensor& logits, const SamplingParams& params,
                         std::span<const int32_t> penalty_window, int32_t n_allowed,
                         double uniform) {
    (void)logits, (void)params, (void)penalty_window, (void)n_allowed, (void)uniform;
    BT_CHECK(false);
    return -1;
  }
};

// The process-wide CPU backend (uses the default thread pool).
Backend& cpu_backend();

// Device memory as the driver reports it (the GPU's free and total bytes).
struct DeviceMemoryInfo {
  int64_t free_bytes = 0;
  int64_t total_bytes = 0;
};

// The backend of a device; fails with a clear error when the device is not available
// (e.g. "cuda" in a build without CUDA or on a machine without a GPU).
Backend& backend_for(Device device);
bool device_available(Device device);
// Why `device` is not available ("" when it is): not built with CUDA, no GPU,
// driver too old.
std::string device_unavailable_reason(Device device);
// Free and total memory of an available GPU; nullopt for the CPU or no GPU.
std::optional<DeviceMemoryInfo> device_memory_info(Device device);
bool built_with_cuda();
Device parse_device(std::string_view name);  // "cpu" | "cuda", clear error otherwise

}  // namespace bit_ttt
