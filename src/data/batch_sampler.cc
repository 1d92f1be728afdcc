#include "data/batch_sampler.h"

#include <algorithm>
#include <utility>

#include "bit_ttt/error.h"
#include "data/splitmix.h"

namespace bit_ttt::data {
namespace {

__extension__ typedef unsigned __int128 uint128;

void check_shape(const TokenFile& file, int64_t context, int64_t batch_size) {
  if (context < 1) fail("batch sampler: context must be >= 1, got ", context);
  if (batch_size < 1) fail("batch sampler: batch size must be >= 1, got ", batch_size);
  if (file.n_tokens() < context + 1)
    fail(file.path().string(), ": ", file.n_tokens(), " tokens, too few for one window of context ",
         context, " + 1 target token");
}

// Copies window [offset, offset + context + 1) into row `row` of the batch.
void fill_row(const TokenFile& file, int64_t offset, int64_t row, std::vector<int32_t>& window,
              TokenBatch& batch) {
  const int64_t context = batch.context;
  file.read(offset, context + 1, window.data());
  const auto at = static_cast<size_t>(row * context);
  std::copy(window.begin(), window.end() - 1, batch.inputs.begin() + static_cast<ptrdiff_t>(at));
  std::copy(window.begin() + 1, window.end(), batch.targets.begin() + static_cast<ptrdiff_t>(at));
  batch.offsets[static_cast<size_t>(row)] = offset;
}

void shape_batch(TokenBatch& batch, int64_t batch_size, int64_t context) {
  batch.batch_size = batch_size;
  batch.context = context;
  batch.inputs.resize(static_cast<size_t>(batch_size * context));
  batch.targets.resize(static_cast<size_t>(batch_size * context));
  batch.offsets.resize(static_cast<size_t>(batch_size));
}

}  // namespace

BatchSampler::BatchSampler(TokenFile file, int64_t context, int64_t batch_size, uint64_t seed)
    : file_(std::move(file)),
      context_(context),
      batch_size_(batch_size),
      seed_(seed),
      key_(splitmix64_mix(seed ^ 0x6a09e667f3bcc909ull)) {
  check_shape(file_, context_, batch_size_);
  window_.resize(static_cast<size_t>(context_ + 1));
}

int64_t BatchSampler::window_offset(uint64_t batch_index, int64_t row) const {
  const uint64_t n_starts = static_cast<uint64_t>(file_.n_tokens() - context_);
  const uint64_t draw = splitmix64_at(
      key_, batch_index * static_cast<uint64_t>(batch_size_) + static_cast<uint64_t>(row));
  // Multiply-shift maps the 64-bit draw onto [0, n_starts) with a bias below
  // n_starts / 2^64, and without the cost of a division.
  return static_cast<int64_t>((static_cast<uint128>(draw) * n_starts) >> 64);
}

void BatchSampler::next(TokenBatch& batch) {
  shape_batch(batch, batch_size_, context_);
  for (int64_t row = 0; row < batch_size_; ++row)
    fill_row(file_, window_offset(n_batches_drawn_, row), row, window_, batch);
  ++n_batches_drawn_;
}

TokenBatch BatchSampler::next() {
  TokenBatch batch;
  next(batch);
  return batch;
}

SamplerState BatchSampler::state() const {
  return {seed_, n_batches_drawn_, context_, batch_size_, file_.n_tokens()};
}

void BatchSampler::restore(const SamplerState& state) {
  if (state.context != context_ || state.batch_size != batch_size_ ||
      state.n_tokens != file_.n_tokens())
    fail("batch sampler: cannot resume a state drawn with context ", state.context, ", batch size ",
         state.batch_size, " over ", state.n_tokens, " tokens using context ", context_,
         ", batch size ", batch_size_, " over ", file_.n_tokens(), " tokens (",
         file_.path().string(), ")");
  seed_ = state.seed;
  key_ = splitmix64_mix(seed_ ^ 0x6a09e667f3bcc909ull);
  n_batches_drawn_ = state.n_batches_drawn;
}

std::vector<TokenBatch> validation_batches(const TokenFile& file, int64_t context,
                                           int64_t batch_size, int64_t max_batches) {
  check_shape(file, context, batch_size);
  const int64_t n_windows = (file.n_tokens() - 1) / context;
  int64_t n_batches = (n_windows + batch_size - 1) / batch_size;
  if (max_batches > 0) n_batches = std::min(n_batches, max_batches);
  std::vector<TokenBatch> batches(static_cast<size_t>(n_batches));
  std::vector<int32_t> window(static_cast<size_t>(context + 1));
  for (int64_t b = 0; b < n_batches; ++b) {
    const int64_t first = b * batch_size;
    const int64_t rows = std::min(batch_size, n_windows - first);
    TokenBatch& batch = batches[static_cast<size_t>(b)];
    shape_batch(batch, rows, context);
    for (int64_t row = 0; row < rows; ++row)
      fill_row(file, (first + row) * context, row, window, batch);
  }
  return batches;
}

}  // namespace bit_ttt::data
