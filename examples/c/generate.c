/* The C API end to end: load a model directory or .bitt file, stream a
 * completion piece by piece (stopping after max_pieces pieces), learn a text,
 * save the memory and load it back, then run the raw forward pass.
 *
 *   generate_c MODEL [PROMPT] [MAX_PIECES]
 */
#include <bit_ttt/c_api.h>

#include <stdio.h>
#include <stdlib.h>

typedef struct {
  int n_pieces;
  int max_pieces;
} stream_state;

static int print_piece(const char* piece, size_t length, void* user_data) {
  stream_state* state = (stream_state*)user_data;
  fwrite(piece, 1, length, stdout);
  fflush(stdout);
  state->n_pieces += 1;
  return state->max_pieces <= 0 || state->n_pieces < state->max_pieces; /* 0 stops */
}

static int fail(const char* what) {
  fprintf(stderr, "error: %s: %s\n", what, bt_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [PROMPT] [MAX_PIECES]\n", argv[0]);
    return 2;
  }
  const char* prompt = argc > 2 ? argv[2] : "Once upon a time";
  stream_state state = {0, argc > 3 ? atoi(argv[3]) : 0};

  bt_llama* llama = NULL;
  if (bt_llama_load(argv[1], NULL, &llama) != BT_OK) return fail("load");

  bt_generate_options options;
  bt_generate_options_init(&options);
  options.max_tokens = 40;
  options.temperature = 0.0f; /* greedy: the same text every run */
  int64_t n_generated = 0;
  printf("%s", prompt);
  if (bt_llama_generate(llama, prompt, &options, print_piece, &state, &n_generated) != BT_OK) {
    bt_llama_free(llama);
    return fail("generate");
  }
  printf("\n[%lld tokens generated, %d pieces]\n", (long long)n_generated, state.n_pieces);

  int64_t n_learned = 0;
  const char* memory = "generate_c_memory.safetensors";
  if (bt_llama_learn(llama, "The dragon's name was Ember.", &n_learned) != BT_OK ||
      bt_llama_save_state(llama, memory) != BT_OK || bt_llama_reset_state(llama) != BT_OK ||
      bt_llama_load_state(llama, memory) != BT_OK) {
    bt_llama_free(llama);
    return fail("state");
  }
  printf("learned %lld tokens; memory holds %lld tokens\n", (long long)n_learned,
         (long long)bt_llama_n_tokens(llama));
  remove(memory);
  bt_llama_free(llama);

  /* The raw model: token ids in, logits out. */
  bt_model* model = NULL;
  if (bt_model_load(argv[1], NULL, &model) != BT_OK) return fail("model load");
  const int64_t vocab = bt_model_vocab_size(model);
  const int32_t tokens[3] = {1, 2, 3};
  float* logits = (float*)malloc(sizeof(float) * (size_t)vocab * 3);
  if (!logits) {
    bt_model_free(model);
    return 1;
  }
  if (bt_model_forward(model, tokens, 3, logits, (size_t)vocab * 3, 1) != BT_OK) {
    free(logits);
    bt_model_free(model);
    return fail("forward");
  }
  int32_t best = 0;
  for (int32_t i = 1; i < vocab; ++i)
    if (logits[2 * vocab + i] > logits[2 * vocab + best]) best = i;
  printf("forward of 3 tokens: memory holds %lld tokens; next-token argmax %d\n",
         (long long)bt_model_n_tokens(model), best);
  free(logits);
  bt_model_free(model);
  return 0;
}
