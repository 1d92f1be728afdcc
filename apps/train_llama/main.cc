// train_llama: the seed's training program; the same as `bit_llama train`.
//   train_llama --data data/TinyStories/train.bin --steps 10000 --lr 3e-4
#include <cstdio>

#include "bit_ttt/error.h"
#include "commands.h"
#include "train/blas_core.h"

int main(int argc, char** argv) {
  bit_ttt::rerun_with_fast_blas_if_needed(argv);  // before any work: may exec again
  CLI::App app{"train_llama: train a Bit-TTT model (same flags as `bit_llama train`)"};
  bit_ttt::TrainOptions options;
  bit_ttt::cli::add_train_options(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  try {
    return bit_ttt::cli::run_training(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
