// bit_llama logits: the external verification contract. Writes float32 logits
// [T, V] and the final TTT states [N, d, d] as .npy. Keep these flags stable.
#include <cstdio>

#include "bit_ttt/error.h"
#include "bit_ttt/model.h"
#include "commands.h"
#include "common.h"
#include "io/npy.h"

namespace bit_ttt::cli {

CommandRunner add_logits_command(CLI::App& app) {
  struct Options {
    ModelOptions model;
    std::string tokens, out, states_out, state_in, state_out;
    bool streaming = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command =
      app.add_subcommand("logits", "run token ids through the model and write logits as .npy");
  options->model.add_to(*command);
  command->add_option("--tokens", options->tokens, "token ids: 1,2,3 or a JSON list file")
      ->required();
  command->add_option("--out,-o", options->out, "output .npy, float32 [T, V]")->required();
  command->add_option("--states-out", options->states_out,
                      "output .npy of the final TTT states, float32 [N, d, d]");
  command->add_option("--state-in", options->state_in,
                      "start from a saved TTT state instead of an empty memory");
  command->add_option("--state-out", options->state_out,
                      "save the final TTT memory as a state file (load with --state-in)");
  command->add_flag("--streaming", options->streaming,
                    "feed tokens one at a time instead of a batched prefill");

  return [options] {
    const std::vector<int32_t> tokens = parse_token_list(options->tokens);
    if (tokens.empty()) fail("--tokens: no token ids given");
    const BitLlama model = BitLlama::load(options->model.model_path, options->model.load_options());
    const int64_t n_vocab = model.config().vocab_size;
    TttState state =
        options->state_in.empty() ? model.new_state() : model.load_state(options->state_in);
    std::vector<float> logits(tokens.size() * static_cast<size_t>(n_vocab));
    if (options->streaming) {
      for (size_t t = 0; t < tokens.size(); ++t)
        model.forward(std::span<const int32_t>(&tokens[t], 1), state,
                      std::span<float>(logits).subspan(t * n_vocab, n_vocab));
    } else {
      model.forward(tokens, state, logits);
    }
    const int64_t logits_shape[2] = {static_cast<int64_t>(tokens.size()), n_vocab};
    write_npy(options->out, DType::f32, logits_shape, logits.data());
    if (!options->states_out.empty()) {
      const int64_t n_layers = state.n_layers(), d = state.ttt_dim();
      std::vector<float> states;
      states.reserve(static_cast<size_t>(n_layers * d * d));
      for (int64_t i = 0; i < n_layers; ++i) {
        const auto layer = state.layer_to_host(i);
        states.insert(states.end(), layer.begin(), layer.end());
      }
      const int64_t states_shape[3] = {n_layers, d, d};
      write_npy(options->states_out, DType::f32, states_shape, states.data());
    }
    if (!options->state_out.empty()) model.save_state(state, options->state_out);
    std::fprintf(stderr, "wrote %s [%zu, %lld]%s\n", options->out.c_str(), tokens.size(),
                 static_cast<long long>(n_vocab),
                 options->states_out.empty() ? "" : (" and " + options->states_out).c_str());
    return 0;
  };
}

}  // namespace bit_ttt::cli
