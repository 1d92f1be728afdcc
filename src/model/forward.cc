// The forward pass, MODEL_SPEC.md §3, written once for every device: each block
// runs its ops on its own backend and the residual stream crosses devices only at
// placement boundaries. Prompts are processed in chunks of rows: every matmul is
// batched over the chunk and only the d×d TTT scan is sequential.
#include <algorithm>

#include "bit_ttt/error.h"
#include "model/model_impl.h"
#include "model/state_impl.h"

namespace bit_ttt {
namespace {

// Normalisation epsilon of the TTT feature, f = k / (‖k‖ + 1e-6), spec §3.
constexpr float kTttFeatureEps = 1e-6f;

DeviceScratch& scratch_for(TttState::Impl& state, Backend& backend, const BitLlamaConfig& c,
                           int64_t rows, bool with_logits) {
  DeviceScratch& s = state.scratch[backend.device()];
  const bool grow = s.capacity < rows;
  if (grow) {
    s = DeviceScratch();
    s.capacity = rows;
    s.hidden = backend.empty(DType::f32, {rows, c.hidden_dim});
    s.normed = backend.empty(DType::f32, {rows, c.hidden_dim});
    s.keys = backend.empty(DType::f32, {rows, c.ttt_dim});
    s.predictions = backend.empty(DType::f32, {rows, c.ttt_dim});
    s.block_out = backend.empty(DType::f32, {rows, c.hidden_dim});
    s.gate = backend.empty(DType::f32, {rows, c.intermediate_dim});
    s.up = backend.empty(DType::f32, {rows, c.intermediate_dim});
    s.activated = backend.empty(DType::f32, {rows, c.intermediate_dim});
  }
  if (with_logits && (grow || s.logits.empty()))
    s.logits = backend.empty(DType::f32, {s.capacity, c.vocab_size});
  return s;
}

void run_block(const BlockWeights& block, const BitLlamaConfig& c, Tensor& state_layer,
               DeviceScratch& s, int64_t rows) {
  Backend& b = *block.backend;
  Tensor hidden = s.hidden.rows(0, rows);
  Tensor normed = s.normed.rows(0, rows);
  Tensor keys = s.keys.rows(0, rows);
  Tensor predictions = s.predictions.rows(0, rows);
  Tensor block_out = s.block_out.rows(0, rows);
  Tensor gate = s.gate.rows(0, rows);
  Tensor up = s.up.rows(0, rows);
  Tensor activated = s.activated.rows(0, rows);
  const ActivationQuant mode = c.activation_quant;

  // h = h + TTT(RMSNorm(h; norm1))
  b.rms_norm(hidden, block.norm1, c.rms_norm_eps, normed);
  b.bit_linear(normed, block.ttt_down, mode, keys);
  b.l2_normalize_rows(keys, kTttFeatureEps);
  b.ttt_scan(keys, c.inner_lr, state_layer, predictions);
  b.bit_linear(predictions, block.ttt_up, mode, block_out);
  b.add_in_place(hidden, block_out);

  // h = h + SwiGLU(RMSNorm(h; norm2))
  b.rms_norm(hidden, block.norm2, c.rms_norm_eps, normed);
  b.bit_linear_pair(normed, block.gate_proj, block.up_proj, mode, gate, up);
  b.swiglu(gate, up, activated);
  b.bit_linear(activated, block.down_proj, mode, block_out);
  b.add_in_place(hidden, block_out);
}

// norm_f and the LM head over `rows` rows of the head scratch, from `first_row` of hidden.
void run_head(const ModelWeights& weights, DeviceScratch& hs, int64_t first_row, int64_t rows) {
  const BitLlamaConfig& c = weights.config;
  Backend& head = *weights.head_backend;
  Tensor normed = hs.normed.rows(0, rows);
  Tensor chunk_logits = hs.logits.rows(0, rows);
  head.rms_norm(hs.hidden.rows(first_row, rows), weights.norm_f, c.rms_norm_eps, normed);
  head.dense_linear(normed, weights.lm_head, chunk_logits);
}

// One decode step (one token, last logits) as a recording replayed with one launch,
// when the embedding, every block and the head share a backend that records (a
// GPU). The first step on a scratch runs eagerly so recording never allocates.
bool replay_decode_step(const ModelWeights& weights, int32_t token, TttState::Impl& state,
                        std::span<float> logits, bool keep_logits_on_device) {
  Backend& b = *weights.embed_backend;
  if (!b.can_record() || weights.head_backend != &b) return false;
  for (const BlockWeights& block : weights.blocks)
    if (block.backend != &b) return false;
  const BitLlamaConfig& c = weights.config;
  DeviceScratch& s = scratch_for(state, b, c, 1, true);
  if (!s.decode_warm) return false;  // the caller's eager path runs this step
  if (s.token_id.empty()) s.token_id = b.empty(DType::i32, {1});
  std::vector<uintptr_t> key = {reinterpret_cast<uintptr_t>(&weights), b.scratch_epoch()};
  for (const Tensor& layer : state.layers) key.push_back(reinterpret_cast<uintptr_t>(layer.raw()));
  if (!s.decode_step || s.decode_key != key) {
    s.decode_step.reset();
    b.begin_recording();
    try {
      Tensor hidden = s.hidden.rows(0, 1);
      b.embedding_from_device(weights.embed, s.token_id, hidden);
      for (size_t i = 0; i < weights.blocks.size(); ++i)
        run_block(weights.blocks[i], c, state.layers[i], s, 1);
      run_head(weights, s, 0, 1);
    } catch (...) {
      b.end_recording();
      throw;
    }
    s.decode_step = b.end_recording();
    s.decode_key = std::move(key);
  }
  const Tensor host_token(DType::i32, {1}, Device::cpu, &token, nullptr);
  b.copy(host_token, s.token_id);
  b.replay(s.decode_step);
  if (!keep_logits_on_device) b.download(s.logits.rows(0, 1), logits.data());
  return true;
}

}  // namespace

void forward_tokens(const ModelWeights& weights, std::span<const int32_t> tokens,
                    TttState& state_handle, std::span<float> logits, LogitsMode mode,
                    bool keep_logits_on_device) {
  const BitLlamaConfig& c = weights.config;
  TttState::Impl& state = state_handle.impl();
  if (state.n_layers != c.num_layers || state.ttt_dim != c.ttt_dim)
    fail("TTT state has ", state.n_layers, " layers of ", state.ttt_dim, "x", state.ttt_dim,
         " but the model needs ", c.num_layers, " layers of ", c.ttt_dim, "x", c.ttt_dim);
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  const int64_t n_logit_rows = mode == LogitsMode::all ? n_tokens : (n_tokens > 0 ? 1 : 0);
  BT_CHECK(!keep_logits_on_device || mode == LogitsMode::last);
  if (!keep_logits_on_device && static_cast<int64_t>(logits.size()) < n_logit_rows * c.vocab_size)
    fail("logits buffer holds ", logits.size(), " floats, need ", n_logit_rows * c.vocab_size);
  for (int32_t id : tokens)
    if (id < 0 || id >= c.vocab_size)
      fail("token id ", id, " is outside the model's vocabulary [0, ", c.vocab_size, ")");

  if (n_tokens == 1 && mode == LogitsMode::last &&
      replay_decode_step(weights, tokens[0], state, logits, keep_logits_on_device)) {
    state.n_tokens += 1;
    return;
  }

  for (int64_t chunk_begin = 0; chunk_begin < n_tokens; chunk_begin += kMaxChunkRows) {
    const int64_t rows = std::min(kMaxChunkRows, n_tokens - chunk_begin);
    const bool last_chunk = chunk_begin + rows == n_tokens;

    Backend* current = weights.embed_backend;
    DeviceScratch* s = &scratch_for(state, *current, c, rows, false);
    Tensor hidden = s->hidden.rows(0, rows);
    current->embedding(weights.embed, tokens.subspan(chunk_begin, rows), hidden);

    for (size_t i = 0; i < weights.blocks.size(); ++i) {
      const BlockWeights& block = weights.blocks[i];
      if (block.backend != current) {  // placement boundary: move the residual stream
        DeviceScratch& next = scratch_for(state, *block.backend, c, rows, false);
        Tensor destination = next.hidden.rows(0, rows);
        block.backend->copy(s->hidden.rows(0, rows), destination);
        current = block.backend;
        s = &next;
      }
      run_block(block, c, state.layers[i], *s, rows);
    }

    const bool want_logits = mode == LogitsMode::all || last_chunk;
    if (!want_logits) continue;
    Backend& head = *weights.head_backend;
    DeviceScratch& hs = scratch_for(state, head, c, rows, true);
    if (current != &head) {
      Tensor destination = hs.hidden.rows(0, rows);
      head.copy(s->hidden.rows(0, rows), destination);
    }
    // Only the rows whose logits are wanted go through norm_f and the head.
    const int64_t first_row = mode == LogitsMode::all ? 0 : rows - 1;
    const int64_t head_rows = rows - first_row;
    run_head(weights, hs, first_row, head_rows);
    if (!keep_logits_on_device) {
      float* destination =
          logits.data() + (mode == LogitsMode::all ? chunk_begin * c.vocab_size : 0);
      head.download(hs.logits.rows(0, head_rows), destination);
    }
    if (rows == 1) hs.decode_warm = true;  // a one-row step has sized every scratch
  }
  state.n_tokens += n_tokens;
}

}  // namespace bit_ttt
