// Where a training run's math runs. The parameters, their gradients and the AdamW
// moments live on the device for the whole run; the host copies (the ModelParams
// and AdamWState given at creation) are brought up to date by sync_to_host(),
// which the trainer calls before a checkpoint or a best-model save.
//   cpu:  the host objects themselves (sync is nothing), OpenBLAS and the pool;
//   cuda: device copies, cuBLAS and kernels/cuda/train_kernels.h (train/cuda).
// Both run the one pass of train/pass.h and the AdamW of train/adamw.h, so a
// checkpoint is the same file whichever device wrote it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/tensor.h"
#include "train/adamw.h"
#include "train/params.h"

namespace bit_ttt {

class TrainDevice {
 public:
  virtual ~TrainDevice() = default;

  // Gradients = 0 (before the micro-batches of a step).
  virtual void zero_grads() = 0;
  // Adds grad_scale·∂loss/∂params to the gradients; returns the mean loss
  // (forward_backward of train/forward_backward.h).
  virtual double forward_backward(std::span<const int32_t> tokens, int64_t batch, int64_t seq_len,
                                  float grad_scale) = 0;
  // The mean loss only (validation).
  virtual double loss(std::span<const int32_t> tokens, int64_t batch, int64_t seq_len) = 0;
  // clip_gradients and adamw_step of train/adamw.h on the device's copies.
  virtual double clip_gradients(double max_norm) = 0;
  virtual void adamw_step(const AdamWConfig& config, double lr) = 0;
  // Copies the parameters and the optimizer state to the host objects.
  virtual void sync_to_host() = 0;
  // The gradients as they are now (tests and diagnostics).
  virtual void copy_grads_to(ModelParams& grads) = 0;
  // "cpu (N threads)" or the GPU's name.
  virtual std::string description() const = 0;
};

// `params` and `optimizer` must outlive the TrainDevice; the CUDA one uploads them
// now. Fails with the reason when `device` is not available here.
std::unique_ptr<TrainDevice> make_train_device(Device device, ModelParams& params,
                                               AdamWState& optimizer);

}  // namespace bit_ttt
