// Training and evaluation batches from a token file.
//
// Training: each batch is `batch_size` windows of context + 1 consecutive
// tokens at uniformly random offsets (inputs = the first `context`, targets =
// the last `context`). Windows may cross document boundaries; the EOS token
// between documents tells the model where one ends, as in nanoGPT / llm.c.
// Offsets are a pure function of (seed, batch index, row) through a
// counter-based hash (splitmix64), so the whole sampler state is the batch
// index: saving and restoring it resumes the exact same sequence of batches,
// and batch k can be recomputed without drawing batches 0..k-1.
#pragma once

#include <cstdint>
#include <vector>

#include "data/token_file.h"

namespace bit_ttt::data {

struct SamplerState {
  uint64_t seed = 0;
  uint64_t n_batches_drawn = 0;
  // What the state was drawn for; restore() rejects a state taken with other
  // settings or another file size, since it would not resume the same stream.
  int64_t context = 0;
  int64_t batch_size = 0;
  int64_t n_tokens = 0;
};

struct TokenBatch {
  int64_t batch_size = 0;  // rows (the last validation batch may have fewer)
  int64_t context = 0;
  std::vector<int32_t> inputs;   // [batch_size, context], row-major
  std::vector<int32_t> targets;  // inputs shifted by one: the next tokens
  std::vector<int64_t> offsets;  // file position of each row's first input token
};

class BatchSampler {
 public:
  // The file must hold at least context + 1 tokens.
  BatchSampler(TokenFile file, int64_t context, int64_t batch_size, uint64_t seed);

  TokenBatch next();
  void next(TokenBatch& batch);  // reuses batch's storage
  // Start position of `row` in batch `batch_index`; next() uses exactly this.
  int64_t window_offset(uint64_t batch_index, int64_t row) const;

  SamplerState state() const;
  void restore(const SamplerState& state);

  const TokenFile& file() const { return file_; }
  int64_t context() const { return context_; }
  int64_t batch_size() const { return batch_size_; }

 private:
  TokenFile file_;
  int64_t context_;
  int64_t batch_size_;
  uint64_t seed_;
  uint64_t key_;  // the seed, mixed: nearby seeds give unrelated streams
  uint64_t n_batches_drawn_ = 0;
  std::vector<int32_t> window_;  // context + 1 tokens
};

// Evaluation batches: the file walked in order as non-overlapping windows
// (window i: inputs at tokens [i*context, (i+1)*context), targets one later),
// batch_size windows per batch; a last partial batch is kept with fewer rows.
// At most max_batches batches (<= 0: all of them). Deterministic, no seed.
std::vector<TokenBatch> validation_batches(const TokenFile& file, int64_t context,
                                           int64_t batch_size, int64_t max_batches);

}  // namespace bit_ttt::data
