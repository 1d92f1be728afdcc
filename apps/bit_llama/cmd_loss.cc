// bit_llama loss: the training verification contract. Prints the mean
// next-token loss of a token sequence and optionally writes dLoss/dTensor for
// every tensor, named like the weights. Keep these flags stable.
#include <cstdio>

#include "bit_ttt/error.h"
#include "commands.h"
#include "common.h"
#include "core/thread_pool.h"
#include "train/forward_backward.h"
#include "train/params.h"

namespace bit_ttt::cli {

CommandRunner add_loss_command(CLI::App& app) {
  struct Options {
    std::string model, tokens, grads_out;
    int n_threads = 0;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "loss", "mean next-token loss of a token sequence, and optionally its gradients");
  command->add_option("--model,-m", options->model, "model directory")->required();
  command->add_option("--tokens", options->tokens, "token ids: 1,2,3 or a JSON list file")
      ->required();
  command->add_option("--grads-out", options->grads_out,
                      "write dLoss/dTensor of every tensor (safetensors, F32, weight names)");
  command->add_option("--threads,-t", options->n_threads, "CPU threads (0 = every core)");

  return [options] {
    if (options->n_threads > 0) set_default_thread_count(options->n_threads);
    const std::vector<int32_t> tokens = parse_token_list(options->tokens);
    if (tokens.size() < 2) fail("--tokens: need at least 2 tokens (one prediction)");
    const ModelParams params = ModelParams::load(options->model);
    for (int32_t id : tokens)
      if (id >= params.config.vocab_size)
        fail("--tokens: token id ", id, " is outside the model's vocabulary [0, ",
             params.config.vocab_size, ")");
    auto workspace = make_train_workspace();
    const int64_t n = static_cast<int64_t>(tokens.size());
    if (options->grads_out.empty()) {
      std::printf("%.9g\n", forward_backward(params, tokens, 1, n, nullptr, *workspace));
      return 0;
    }
    ModelParams grads = ModelParams::zeros(params.config);
    const double loss = forward_backward(params, tokens, 1, n, &grads, *workspace);
    grads.save_safetensors(
        options->grads_out,
        {{"format", "bit-ttt-gradients"}, {"loss", concat(loss)}, {"n_tokens", std::to_string(n)}});
    std::printf("%.9g\n", loss);
    return 0;
  };
}

}  // namespace bit_ttt::cli
