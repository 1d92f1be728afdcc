// Training checkpoints. A checkpoint is a directory that `bit_llama run` can use
// directly (config.json, model.safetensors, tokenizer.json) plus what resuming
// needs: optimizer.safetensors (AdamW moments) and trainer_state.json (step,
// data position, best validation loss, options). It is written to a temporary
// directory and renamed into place, so a crash or full disk never leaves a
// half-written checkpoint under the final name.
#pragma once

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "train/adamw.h"
#include "train/params.h"

namespace bit_ttt {

struct TrainerState {
  int64_t step = 0;             // optimizer steps completed
  int64_t n_batches_drawn = 0;  // data position: batches taken from the sampler
  int64_t n_tokens_seen = 0;
  double best_val_loss = std::numeric_limits<double>::quiet_NaN();
  std::string options_json;     // the training options, for the record and resume checks
};

struct Checkpoint {
  ModelParams params;
  AdamWState optimizer;
  TrainerState trainer;
  std::string tokenizer_json;
};

void save_checkpoint(const std::filesystem::path& directory, const ModelParams& params,
                     const AdamWState& optimizer, const TrainerState& trainer,
                     const std::string& tokenizer_json);
// Every problem (missing file, shape mismatch, corrupt data) is an error: a run
// that asked to resume never silently starts fresh.
Checkpoint load_checkpoint(const std::filesystem::path& directory);

// A checkpoint directory, or a training output directory (its newest checkpoint).
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);
// checkpoints/step-XXXXXXXX directories under an output dir, oldest first.
std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& output_dir);
std::filesystem::path checkpoint_path(const std::filesystem::path& output_dir, int64_t step);
// Removes all but the newest `keep` checkpoints.
void prune_checkpoints(const std::filesystem::path& output_dir, int keep);

}  // namespace bit_ttt
