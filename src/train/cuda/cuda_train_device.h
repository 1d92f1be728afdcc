// The CUDA TrainDevice (train/train_device.h), built when nvcc is found.
#pragma once

#include <memory>

#include "train/train_device.h"

namespace bit_ttt::cuda {

// Uploads params and optimizer to GPU 0; the caller has checked the GPU is there.
std::unique_ptr<TrainDevice> make_cuda_train_device(ModelParams& params, AdamWState& optimizer);

}  // namespace bit_ttt::cuda
