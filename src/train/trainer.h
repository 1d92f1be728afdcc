// The training loop (spec §4): batches from a token file, forward/backward,
// gradient accumulation and clipping, AdamW with warmup + cosine decay,
// validation, metrics, checkpoints with exact resume, Ctrl-C and NaN handling.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "bit_ttt/config.h"

namespace bit_ttt {

struct TrainOptions {
  // Model (used when not resuming; vocab_size comes from the data header).
  int64_t dim = 256;
  int64_t layers = 8;
  float inner_lr = 0.1f;
  std::string activation_quant = "none";
  // Data.
  std::filesystem::path data;       // train.bin, or a prepared directory holding it
  std::filesystem::path val_data;   // default: val.bin next to the training file
  std::filesystem::path tokenizer;  // default: tokenizer.json next to the training file
  int64_t context_len = 128;
  int64_t batch_size = 16;
  int64_t grad_accum = 1;
  // Optimisation.
  int64_t steps = 1000;
  double lr = 3e-4;
  double min_lr = 1e-5;
  int64_t warmup_steps = 100;
  double weight_decay = 0.1;
  double grad_clip = 1.0;
  uint64_t seed = 1;
  // Bookkeeping.
  std::filesystem::path output_dir = "runs/bit_llama";
  std::filesystem::path load;  // checkpoint (or output dir) to resume from
  int64_t save_interval = 500;
  int64_t val_interval = 250;
  int64_t val_batches = 20;
  int64_t log_interval = 10;
  int64_t stop_at_step = 0;  // > 0: checkpoint and stop at this step (training in sessions)
  int keep_checkpoints = 3;
  int threads = 0;
  // Where the step's math runs: "cpu" or "cuda" (parameters, gradients and the
  // optimizer stay on the GPU; checkpoints are the same files).
  std::string device = "cpu";

  std::string to_json() const;
};

struct TrainResult {
  int64_t final_step = 0;
  double final_loss = 0.0;
  double best_val_loss = 0.0;  // NaN when never validated
  bool interrupted = false;
  std::filesystem::path last_checkpoint;
};

// `stop_requested` is polled once per step; when it turns true the run saves a
// checkpoint and returns with interrupted = true.
TrainResult train(const TrainOptions& options, const std::atomic<bool>* stop_requested = nullptr);

}  // namespace bit_ttt
