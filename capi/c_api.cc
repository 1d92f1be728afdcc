// The C API (include/bit_ttt/c_api.h): a thin layer over the C++ API that turns
// exceptions into status codes plus a thread-local message. Nothing here may
// let an exception cross the extern "C" boundary.
#include "bit_ttt/c_api.h"

#include <algorithm>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bit_ttt/error.h"
#include "bit_ttt/llama.h"
#include "bit_ttt/model.h"

struct bt_model {
  bit_ttt::BitLlama model;
  bit_ttt::TttState state;
};

struct bt_llama {
  bit_ttt::Llama llama;
};

namespace {

thread_local std::string g_last_error;

bt_status set_error(bt_status status, std::string message) {
  g_last_error = std::move(message);
  return status;
}

// Runs `body`, mapping every exception to a status; body returns a bt_status.
template <typename Body>
bt_status guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const bit_ttt::Error& error) {
    return set_error(BT_ERROR_ENGINE, error.what());
  } catch (const std::bad_alloc&) {
    return set_error(BT_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& error) {
    return set_error(BT_ERROR_INTERNAL, error.what());
  } catch (...) {
    return set_error(BT_ERROR_INTERNAL, "unknown error");
  }
}

bt_status invalid(std::string message) {
  return set_error(BT_ERROR_INVALID_ARGUMENT, std::move(message));
}

bit_ttt::LoadOptions to_load_options(const bt_load_options* options) {
  bit_ttt::LoadOptions result;
  if (!options) return result;
  if (options->device) result.device = options->device;
  if (options->n_gpu_layers >= 0) result.n_gpu_layers = options->n_gpu_layers;
  result.n_threads = options->n_threads;
  result.verify = options->verify != 0;
  return result;
}

bool valid_device(const bt_load_options* options) {
  if (!options || !options->device) return true;
  const std::string device = options->device;
  return device == "cpu" || device == "cuda";
}

}  // namespace

extern "C" {

const char* bt_last_error(void) {
  return g_last_error.c_str();
}

const char* bt_version(void) {
  return "0.1.0";
}

const char* bt_status_name(bt_status status) {
  switch (status) {
    case BT_OK:
      return "ok";
    case BT_ERROR_INVALID_ARGUMENT:
      return "invalid argument";
    case BT_ERROR_ENGINE:
      return "engine error";
    case BT_ERROR_BUFFER_TOO_SMALL:
      return "buffer too small";
    case BT_ERROR_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

void bt_load_options_init(bt_load_options* options) {
  if (!options) return;
  options->device = "cpu";
  options->n_gpu_layers = -1;
  options->n_threads = 0;
  options->verify = 0;
}

bt_status bt_model_load(const char* path, const bt_load_options* options, bt_model** out) {
  if (!path || !out) return invalid("bt_model_load: path and out must not be NULL");
  *out = nullptr;
  if (!valid_device(options))
    return invalid(
        bit_ttt::concat("unknown device '", options->device, "' (valid devices: cpu, cuda)"));
  return guarded([&] {
    bit_ttt::BitLlama model = bit_ttt::BitLlama::load(path, to_load_options(options));
    bit_ttt::TttState state = model.new_state();
    *out = new bt_model{std::move(model), std::move(state)};
    return BT_OK;
  });
}

void bt_model_free(bt_model* model) {
  delete model;
}

int64_t bt_model_vocab_size(const bt_model* model) {
  return model ? model->model.config().vocab_size : 0;
}
int64_t bt_model_hidden_dim(const bt_model* model) {
  return model ? model->model.config().hidden_dim : 0;
}
int64_t bt_model_num_layers(const bt_model* model) {
  return model ? model->model.config().num_layers : 0;
}
int64_t bt_model_n_tokens(const bt_model* model) {
  return model ? model->state.n_tokens() : 0;
}

bt_status bt_model_forward(bt_model* model, const int32_t* tokens, size_t n_tokens, float* logits,
                           size_t logits_capacity, int all_positions) {
  if (!model) return invalid("bt_model_forward: model is NULL");
  if (n_tokens == 0) return invalid("bt_model_forward: no tokens");
  if (!tokens || !logits) return invalid("bt_model_forward: tokens and logits must not be NULL");
  const int64_t vocab = model->model.config().vocab_size;
  for (size_t i = 0; i < n_tokens; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return invalid(bit_ttt::concat("bt_model_forward: token id ", tokens[i], " at position ", i,
                                     " is out of range [0, ", vocab, ")"));
  const size_t needed = static_cast<size_t>(vocab) * (all_positions ? n_tokens : 1);
  if (logits_capacity < needed)
    return set_error(BT_ERROR_BUFFER_TOO_SMALL,
                     bit_ttt::concat("bt_model_forward: logits buffer holds ", logits_capacity,
                                     " floats, needs ", needed));
  return guarded([&] {
    model->model.forward(std::span<const int32_t>(tokens, n_tokens), model->state,
                         std::span<float>(logits, needed),
                         all_positions ? bit_ttt::LogitsMode::all : bit_ttt::LogitsMode::last);
    return BT_OK;
  });
}

bt_status bt_model_reset_state(bt_model* model) {
  if (!model) return invalid("bt_model_reset_state: model is NULL");
  model->state.reset();
  return BT_OK;
}

bt_status bt_model_save_state(const bt_model* model, const char* path) {
  if (!model || !path) return invalid("bt_model_save_state: model and path must not be NULL");
  return guarded([&] {
    model->model.save_state(model->state, path);
    return BT_OK;
  });
}

bt_status bt_model_load_state(bt_model* model, const char* path) {
  if (!model || !path) return invalid("bt_model_load_state: model and path must not be NULL");
  return guarded([&] {
    model->state = model->model.load_state(path);
    return BT_OK;
  });
}

bt_status bt_llama_load(const char* path, const bt_load_options* options, bt_llama** out) {
  if (!path || !out) return invalid("bt_llama_load: path and out must not be NULL");
  *out = nullptr;
  if (!valid_device(options))
    return invalid(
        bit_ttt::concat("unknown device '", options->device, "' (valid devices: cpu, cuda)"));
  return guarded([&] {
    *out = new bt_llama{bit_ttt::Llama::load_auto(path, to_load_options(options))};
    return BT_OK;
  });
}

void bt_llama_free(bt_llama* llama) {
  delete llama;
}

void bt_generate_options_init(bt_generate_options* options) {
  if (!options) return;
  const bit_ttt::GenerateOptions defaults;
  options->max_tokens = defaults.max_tokens;
  options->temperature = defaults.sampling.temperature;
  options->top_k = defaults.sampling.top_k;
  options->top_p = defaults.sampling.top_p;
  options->min_p = defaults.sampling.min_p;
  options->repetition_penalty = defaults.sampling.repetition_penalty;
  options->repeat_last_n = defaults.sampling.repeat_last_n;
  options->seed = defaults.sampling.seed;
  options->stop_at_eos = defaults.stop_at_eos ? 1 : 0;
}

bt_status bt_llama_generate(bt_llama* llama, const char* prompt, const bt_generate_options* options,
                            bt_piece_callback callback, void* user_data, int64_t* n_generated) {
  if (!llama || !prompt) return invalid("bt_llama_generate: llama and prompt must not be NULL");
  bit_ttt::GenerateOptions generate;
  if (options) {
    generate.max_tokens = options->max_tokens;
    generate.sampling.temperature = options->temperature;
    generate.sampling.top_k = options->top_k;
    generate.sampling.top_p = options->top_p;
    generate.sampling.min_p = options->min_p;
    generate.sampling.repetition_penalty = options->repetition_penalty;
    generate.sampling.repeat_last_n = options->repeat_last_n;
    generate.sampling.seed = options->seed;
    generate.stop_at_eos = options->stop_at_eos != 0;
  }
  if (generate.max_tokens < 0)
    return invalid(bit_ttt::concat("max_tokens must be >= 0, got ", generate.max_tokens));
  try {
    generate.sampling.validate();
  } catch (const bit_ttt::Error& error) {
    return invalid(error.what());
  }
  return guarded([&] {
    bit_ttt::TextCallback on_piece;
    std::string piece_text;  // NUL-terminated copy handed to the callback
    if (callback) {
      on_piece = [&](std::string_view piece) {
        piece_text.assign(piece);
        return callback(piece_text.c_str(), piece_text.size(), user_data) != 0;
      };
    }
    const bit_ttt::GenerationResult result = llama->llama.generate(prompt, generate, on_piece);
    if (n_generated) *n_generated = result.n_generated_tokens;
    return BT_OK;
  });
}

bt_status bt_llama_learn(bt_llama* llama, const char* text, int64_t* n_tokens) {
  if (!llama || !text) return invalid("bt_llama_learn: llama and text must not be NULL");
  return guarded([&] {
    const int64_t count = llama->llama.learn(text);
    if (n_tokens) *n_tokens = count;
    return BT_OK;
  });
}

bt_status bt_llama_tokenize(const bt_llama* llama, const char* text, int32_t* ids, size_t capacity,
                            size_t* n_ids) {
  if (!llama || !text || !n_ids)
    return invalid("bt_llama_tokenize: llama, text and n_ids must not be NULL");
  if (!ids && capacity > 0) return invalid("bt_llama_tokenize: ids is NULL but capacity > 0");
  return guarded([&] {
    const std::vector<int32_t> encoded = llama->llama.tokenizer().encode(text);
    *n_ids = encoded.size();
    if (encoded.size() > capacity)
      return set_error(BT_ERROR_BUFFER_TOO_SMALL,
                       bit_ttt::concat("bt_llama_tokenize: ", encoded.size(),
                                       " ids do not fit in a buffer of ", capacity));
    std::copy(encoded.begin(), encoded.end(), ids);
    return BT_OK;
  });
}

bt_status bt_llama_reset_state(bt_llama* llama) {
  if (!llama) return invalid("bt_llama_reset_state: llama is NULL");
  llama->llama.reset_state();
  return BT_OK;
}

bt_status bt_llama_save_state(const bt_llama* llama, const char* path) {
  if (!llama || !path) return invalid("bt_llama_save_state: llama and path must not be NULL");
  return guarded([&] {
    llama->llama.save_state(path);
    return BT_OK;
  });
}

bt_status bt_llama_load_state(bt_llama* llama, const char* path) {
  if (!llama || !path) return invalid("bt_llama_load_state: llama and path must not be NULL");
  return guarded([&] {
    llama->llama.load_state(path);
    return BT_OK;
  });
}

int64_t bt_llama_n_tokens(const bt_llama* llama) {
  return llama ? llama->llama.n_tokens() : 0;
}

int64_t bt_llama_vocab_size(const bt_llama* llama) {
  return llama ? llama->llama.model().config().vocab_size : 0;
}

}  // extern "C"
