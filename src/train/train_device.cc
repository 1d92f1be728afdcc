#include "train/train_device.h"

#include "backend/backend.h"
#include "bit_ttt/error.h"
#include "core/thread_pool.h"
#include "train/forward_backward.h"
#if defined(BIT_TTT_HAVE_CUDA)
#include "train/cuda/cuda_train_device.h"
#endif

namespace bit_ttt {
namespace {

class CpuTrainDevice final : public TrainDevice {
 public:
  CpuTrainDevice(ModelParams& params, AdamWState& optimizer)
      : params_(params),
        optimizer_(optimizer),
        grads_(ModelParams::zeros(params.config)),
        workspace_(make_train_workspace()) {}

  void zero_grads() override { std::fill(grads_.values.begin(), grads_.values.end(), 0.0f); }
  double forward_backward(std::span<const int32_t> tokens, int64_t batch, int64_t seq_len,
                          float grad_scale) override {
    return bit_ttt::forward_backward(params_, tokens, batch, seq_len, &grads_, *workspace_,
                                     grad_scale);
  }
  double loss(std::span<const int32_t> tokens, int64_t batch, int64_t seq_len) override {
    return bit_ttt::forward_backward(params_, tokens, batch, seq_len, nullptr, *workspace_);
  }
  double clip_gradients(double max_norm) override {
    return bit_ttt::clip_gradients(grads_, max_norm);
  }
  void adamw_step(const AdamWConfig& config, double lr) override {
    bit_ttt::adamw_step(params_, grads_, optimizer_, config, lr);
  }
  void sync_to_host() override {}
  void copy_grads_to(ModelParams& grads) override { grads.values = grads_.values; }
  std::string description() const override {
    return concat("cpu (", default_thread_pool().n_threads(), " threads)");
  }

 private:
  ModelParams& params_;
  AdamWState& optimizer_;
  ModelParams grads_;
  std::unique_ptr<TrainWorkspace> workspace_;
};

}  // namespace

std::unique_ptr<TrainDevice> make_train_device(Device device, ModelParams& params,
                                               AdamWState& optimizer) {
  if (device == Device::cpu) return std::make_unique<CpuTrainDevice>(params, optimizer);
  if (!device_available(device))
    fail("cannot train on cuda: ", device_unavailable_reason(device),
         " (train on the CPU with --device cpu)");
#if defined(BIT_TTT_HAVE_CUDA)
  return cuda::make_cuda_train_device(params, optimizer);
#else
  fail("cannot train on cuda: this build has no CUDA backend");
#endif
}

}  // namespace bit_ttt
