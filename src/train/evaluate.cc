#include "train/evaluate.h"

#include <algorithm>
#include <vector>

#include "bit_ttt/error.h"

namespace bit_ttt {

EvalResult evaluate_loss(const BatchLoss& batch_loss, std::span<const int32_t> tokens,
                         int64_t context, int64_t batch_size, int64_t max_windows) {
  const int64_t seq_len = context + 1;
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  if (context < 1 || batch_size < 1) fail("evaluate: context and batch size must be positive");
  if (n_tokens < seq_len)
    fail("evaluation data holds ", n_tokens, " tokens, fewer than one window of ", seq_len,
         " (context ", context, " + 1)");
  int64_t n_windows = (n_tokens - 1) / context;
  if (max_windows > 0) n_windows = std::min(n_windows, max_windows);

  EvalResult result;
  double weighted = 0.0;
  for (int64_t first = 0; first < n_windows; first += batch_size) {
    const int64_t rows = std::min(batch_size, n_windows - first);
    // Windows are contiguous in the stream: rows of seq_len overlapping by one.
    std::vector<int32_t> sequences(static_cast<size_t>(rows * seq_len));
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(tokens.begin() + (first + r) * context, seq_len, sequences.begin() + r * seq_len);
    const double loss = batch_loss(sequences, rows, seq_len);
    weighted += loss * static_cast<double>(rows * context);
    result.n_predictions += rows * context;
  }
  result.mean_loss = weighted / static_cast<double>(result.n_predictions);
  return result;
}

EvalResult evaluate_loss(const ModelParams& params, std::span<const int32_t> tokens,
                         int64_t context, int64_t batch_size, int64_t max_windows,
                         TrainWorkspace& workspace) {
  return evaluate_loss(
      [&](std::span<const int32_t> batch, int64_t rows, int64_t seq_len) {
        return forward_backward(params, batch, rows, seq_len, nullptr, workspace);
      },
      tokens, context, batch_size, max_windows);
}

}  // namespace bit_ttt
