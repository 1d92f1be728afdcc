/* The C API of Bit-TTT Engine: opaque handles, return codes and a thread-local
 * error string instead of exceptions, so C programs and any language with a C
 * FFI can load a model, run its forward pass and generate text.
 *
 *   bt_llama* llama = NULL;
 *   if (bt_llama_load("models/m", NULL, &llama) != BT_OK) {
 *     fprintf(stderr, "error: %s\n", bt_last_error());
 *     return 1;
 *   }
 *   bt_generate_options options;
 *   bt_generate_options_init(&options);
 *   bt_llama_generate(llama, "Hello", &options, print_piece, NULL, NULL);
 *   bt_llama_free(llama);
 *
 * Every function that can fail returns a bt_status; on failure bt_last_error()
 * holds the engine's message (what and where) until the next failing call on the
 * same thread. A handle may be used from one thread at a time; different handles
 * are independent. Strings are UTF-8; paths are file system paths. */
#ifndef BIT_TTT_C_API_H_
#define BIT_TTT_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bt_status {
  BT_OK = 0,
  BT_ERROR_INVALID_ARGUMENT = 1, /* a NULL handle, a bad option value, a token id out of range */
  BT_ERROR_ENGINE = 2,           /* the engine refused (bad file, shape mismatch, no such device) */
  BT_ERROR_BUFFER_TOO_SMALL = 3, /* an output buffer cannot hold the result */
  BT_ERROR_INTERNAL = 4          /* anything else (out of memory, ...) */
} bt_status;

/* The message of the last failed call on this thread ("" when none). The
 * pointer stays valid until the next failing call on this thread. */
const char* bt_last_error(void);
/* "0.1.0" */
const char* bt_version(void);
/* A short name for a status code ("ok", "invalid argument", ...). */
const char* bt_status_name(bt_status status);

/* How a model is loaded. Initialise with bt_load_options_init, then change fields. */
typedef struct bt_load_options {
  const char* device;   /* "cpu" (default) or "cuda" */
  int64_t n_gpu_layers; /* blocks 0..n-1 on the GPU; -1 = from config.json / all */
  int n_threads;        /* CPU threads; 0 = every core */
  int verify;           /* .bitt: non-zero checks every tensor's checksum first */
} bt_load_options;
void bt_load_options_init(bt_load_options* options);

/* ---- bt_model: the weights plus one TTT memory (the seed's BitLlama) ---- */
typedef struct bt_model bt_model;

/* `path`: a model directory, a .safetensors file with config.json beside it, or a
 * .bitt file. `options` may be NULL (defaults). On success *out owns the model. */
bt_status bt_model_load(const char* path, const bt_load_options* options, bt_model** out);
void bt_model_free(bt_model* model); /* NULL is fine */

int64_t bt_model_vocab_size(const bt_model* model);
int64_t bt_model_hidden_dim(const bt_model* model);
int64_t bt_model_num_layers(const bt_model* model);
/* Tokens the model's memory has absorbed since load / reset. */
int64_t bt_model_n_tokens(const bt_model* model);

/* Feeds n_tokens ids after whatever the memory holds (updating it) and writes
 * logits: all positions ([n_tokens, vocab] row-major) when all_positions is
 * non-zero, else only the last position ([vocab]). `logits_capacity` is the
 * buffer's size in floats. Every id must be in [0, vocab). */
bt_status bt_model_forward(bt_model* model, const int32_t* tokens, size_t n_tokens, float* logits,
                           size_t logits_capacity, int all_positions);
bt_status bt_model_reset_state(bt_model* model);
bt_status bt_model_save_state(const bt_model* model, const char* path);
bt_status bt_model_load_state(bt_model* model, const char* path);

/* ---- bt_llama: model + tokenizer + memory, text in, text out ---- */
typedef struct bt_llama bt_llama;

/* `path`: a model directory (config.json, model.safetensors, tokenizer.json) or a
 * .bitt file with its tokenizer inside. `options` may be NULL. */
bt_status bt_llama_load(const char* path, const bt_load_options* options, bt_llama** out);
void bt_llama_free(bt_llama* llama); /* NULL is fine */

/* Receives each new piece of text (complete UTF-8 characters, `length` bytes,
 * also NUL-terminated); return 0 to stop generating, non-zero to continue. */
typedef int (*bt_piece_callback)(const char* piece, size_t length, void* user_data);

typedef struct bt_generate_options {
  int max_tokens;           /* default 128 */
  float temperature;        /* default 0.8; <= 0 = greedy */
  int top_k;                /* default 0 = off */
  float top_p;              /* default 1 = off */
  float min_p;              /* default 0 = off */
  float repetition_penalty; /* default 1 = off */
  int repeat_last_n;        /* default 64; -1 = all */
  uint64_t seed;            /* default 0 */
  int stop_at_eos;          /* default 1 */
} bt_generate_options;
void bt_generate_options_init(bt_generate_options* options);

/* Absorbs `prompt` into the memory, then generates, calling `callback` (may be
 * NULL) per piece. `n_generated` (may be NULL) receives the generated token
 * count. A callback that returns 0 is a normal stop (BT_OK). */
bt_status bt_llama_generate(bt_llama* llama, const char* prompt, const bt_generate_options* options,
                            bt_piece_callback callback, void* user_data, int64_t* n_generated);
/* Absorbs text without generating; `n_tokens` (may be NULL) receives its token count. */
bt_status bt_llama_learn(bt_llama* llama, const char* text, int64_t* n_tokens);
/* Encodes text into `ids` (capacity `capacity`); *n_ids receives the count even
 * when the buffer is too small (BT_ERROR_BUFFER_TOO_SMALL). */
bt_status bt_llama_tokenize(const bt_llama* llama, const char* text, int32_t* ids, size_t capacity,
                            size_t* n_ids);
bt_status bt_llama_reset_state(bt_llama* llama);
bt_status bt_llama_save_state(const bt_llama* llama, const char* path);
bt_status bt_llama_load_state(bt_llama* llama, const char* path);
int64_t bt_llama_n_tokens(const bt_llama* llama);
int64_t bt_llama_vocab_size(const bt_llama* llama);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BIT_TTT_C_API_H_ */
