// A small prepared corpus and the options of a short training run on it, for the
// trainer tests on the CPU (tests/train) and on the GPU (tests/cuda).
#pragma once

#include <sstream>
#include <string>

#include "bit_ttt/tokenizer.h"
#include "core/atomic_file.h"
#include "core/progress.h"
#include "data/prepare.h"
#include "test_util.h"
#include "train/trainer.h"

namespace bit_ttt::testing {

// A small prepared corpus (byte-level tokenizer) in dir/data.
inline void prepare_small_corpus(const TempDir& dir) {
  std::ostringstream text;
  for (int i = 0; i < 120; ++i)
    text << "Story " << i << ": the cat sat on the mat and the dog ran to the " << (i % 7)
         << " park.\n<|endoftext|>\n";
  testing::write_file_bytes(dir / "corpus.txt", text.str());
  write_file_atomically(dir / "tokenizer.json", byte_level_tokenizer_json({"<|endoftext|>"}));
  data::PrepareOptions prepare;
  prepare.inputs = {dir / "corpus.txt"};
  prepare.tokenizer_path = dir / "tokenizer.json";
  prepare.out_dir = dir / "data";
  prepare.val_fraction = 0.1;
  prepare.progress = ProgressBar::Style::none;
  data::prepare_corpus(prepare);
}

inline TrainOptions small_options(const TempDir& dir, const std::string& run) {
  TrainOptions o;
  o.data = dir / "data";
  o.output_dir = dir / run;
  o.dim = 16;
  o.layers = 2;
  o.context_len = 16;
  o.batch_size = 4;
  o.steps = 12;
  o.warmup_steps = 3;
  o.lr = 3e-3;
  o.save_interval = 5;
  o.val_interval = 4;
  o.val_batches = 2;
  o.log_interval = 100;
  return o;
}

}  // namespace bit_ttt::testing
