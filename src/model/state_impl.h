// Internals of TttState: the per-layer d×d memories on their devices, the token
// count, and the scratch buffers a forward pass uses (not part of the memory).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "bit_ttt/model.h"

namespace bit_ttt {

// Activation buffers for up to `capacity` rows on one device.
struct DeviceScratch {
  int64_t capacity = 0;
  Tensor hidden;       // [rows, D]  residual stream
  Tensor normed;       // [rows, D]
  Tensor keys;         // [rows, d]  k_t, normalised in place to f_t
  Tensor predictions;  // [rows, d]  p_t
  Tensor block_out;    // [rows, D]
  Tensor gate;         // [rows, I]
  Tensor up;           // [rows, I]
  Tensor activated;    // [rows, I]
  Tensor logits;       // [rows, V]  only on the head's device

  // The recorded decode step (forward.cc): one token, last logits, the whole model
  // on this device. It bakes in pointers, so `decode_key` holds what it used (the
  // weights, every state layer, the backend's scratch epoch); any change re-records.
  // Regrowing this scratch drops it with everything else.
  Tensor token_id;  // [1] int32: the step's input, written before each replay
  std::shared_ptr<void> decode_step;
  std::vector<uintptr_t> decode_key;
  bool decode_warm = false;  // an eager step ran first, so recording allocates nothing
};

struct TttState::Impl {
  int64_t n_layers = 0;
  int64_t ttt_dim = 0;
  int64_t n_tokens = 0;
  std::vector<Tensor> layers;  // [d, d] each, on its block's device
  std::vector<Backend*> backends;
  std::string model_fingerprint;
  std::map<Device, DeviceScratch> scratch;  // not copied with the state
};

}  // namespace bit_ttt
