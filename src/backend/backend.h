// The device seam. Model code calls these ops on the backend of the device a
// block lives on and never touches memory directly, so a CUDA backend is one more
// implementation of this interface (kernels/cuda) and hybrid placement is a
// per-block choice. Shapes: activations [n_rows, n_cols] row-major; linear
// weights [n_out, n_in].
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bit_ttt/config.h"
#include "core/tensor.h"

namespace bit_ttt {

// A BitLinear weight prepared for inference: Wq codes in {-1, 0, +1} and β.
// (Packed 2-bit / base-3 layouts arrive with the fast kernels; the seam stays.)
struct TernaryWeight {
  Tensor codes;  // int8 [n_out, n_in]
  float beta = 0.0f;
  int64_t n_out = 0;
  int64_t n_in = 0;
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

  // Weights: quantizes a latent float matrix per spec §3 (β over the whole tensor).
  virtual TernaryWeight prepare_ternary(const Tensor& latent_host) = 0;

  // Ops. `out` is preallocated with the right shape on this device.
  virtual void embedding(const Tensor& table, std::span<const int32_t> ids, Tensor& out) = 0;
  virtual void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) = 0;
  virtual void bit_linear(const Tensor& x, const TernaryWeight& weight, ActivationQuant mode,
                          Tensor& out) = 0;
  virtual void dense_linear(const Tensor& x, const Tensor& weight, Tensor& out) = 0;
  virtual void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) = 0;
  virtual void add_in_place(Tensor& accumulator, const Tensor& delta) = 0;
  virtual void l2_normalize_rows(Tensor& x, float eps) = 0;
  // Sequential TTT recurrence over the rows of f [T, d]: predictions[t] = S f_t,
  // then S -= η (p_t − f_t) f_tᵀ. `state` is [d, d] and is updated in place.
  virtual void ttt_scan(const Tensor& f, float eta, Tensor& state, Tensor& predictions) = 0;
};

// The process-wide CPU backend (uses the default thread pool).
Backend& cpu_backend();
// The backend of a device; fails with a clear error when the device is not available
// (e.g. "cuda" in a build without CUDA or on a machine without a GPU).
Backend& backend_for(Device device);
bool device_available(Device device);
Device parse_device(std::string_view name);  // "cpu" | "cuda", clear error otherwise

}  // namespace bit_ttt
