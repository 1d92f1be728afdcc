// Mean next-token loss of a model over a token stream, as validation and
// `bit_llama eval` measure it: the stream is cut into windows of context + 1
// tokens that overlap by one (every token after the first is predicted exactly
// once), and each window starts from an empty TTT memory, like training.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "train/forward_backward.h"
#include "train/params.h"

namespace bit_ttt {

struct EvalResult {
  double mean_loss = 0.0;
  int64_t n_predictions = 0;
};

// The mean loss of `batch` sequences of `seq_len` tokens (a TrainDevice's loss, or
// forward_backward without gradients).
using BatchLoss =
    std::function<double(std::span<const int32_t> tokens, int64_t batch, int64_t seq_len)>;

// max_windows <= 0: every full window. A stream shorter than one window is an error.
EvalResult evaluate_loss(const BatchLoss& batch_loss, std::span<const int32_t> tokens,
                         int64_t context, int64_t batch_size, int64_t max_windows);
// The same with the CPU pass over `params`.
EvalResult evaluate_loss(const ModelParams& params, std::span<const int32_t> tokens,
                         int64_t context, int64_t batch_size, int64_t max_windows,
                         TrainWorkspace& workspace);

}  // namespace bit_ttt
