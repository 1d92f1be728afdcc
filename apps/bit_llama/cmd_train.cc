// bit_llama train (also the train_llama program): the seed's training flags.
#include <unistd.h>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>

#include "bit_ttt/error.h"
#include "commands.h"
#include "train/trainer.h"

namespace bit_ttt::cli {
namespace {

std::atomic<bool> g_stop_training{false};

// First Ctrl-C: finish the step, save a checkpoint, exit. Second: exit at once.
void on_training_sigint(int) {
  if (g_stop_training.exchange(true)) {
    const char message[] = "\ninterrupted again: exiting without saving\n";
    [[maybe_unused]] auto ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
    std::_Exit(130);
  }
  const char message[] =
      "\ninterrupt: saving a checkpoint after this step (Ctrl-C again to quit now)\n";
  [[maybe_unused]] auto ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
}

}  // namespace

void add_train_options(CLI::App& command, TrainOptions& o) {
  command.add_option("--data", o.data, "train.bin (or the directory `prepare` wrote)")->required();
  command.add_option("--val-data", o.val_data,
                     "validation token file (default: val.bin beside --data)");
  command.add_option("--tokenizer", o.tokenizer, "tokenizer.json (default: beside --data)");
  command.add_option("--output-dir,-o", o.output_dir, "where checkpoints and metrics go")
      ->capture_default_str();
  command.add_option("--load", o.load, "resume from a checkpoint (or an output dir's newest)");
  command.add_option("--dim", o.dim, "hidden dimension D")->capture_default_str();
  command.add_option("--layers", o.layers, "number of blocks")->capture_default_str();
  command.add_option("--inner-lr", o.inner_lr, "TTT inner learning rate η")->capture_default_str();
  command.add_option("--activation-quant", o.activation_quant, "none or int8")
      ->check(CLI::IsMember({"none", "int8"}))
      ->capture_default_str();
  command.add_option("--context-len", o.context_len, "tokens per training sequence")
      ->capture_default_str();
  command.add_option("--batch-size", o.batch_size, "sequences per micro-batch")
      ->capture_default_str();
  command.add_option("--grad-accum", o.grad_accum, "micro-batches per optimizer step")
      ->capture_default_str();
  command.add_option("--steps", o.steps, "optimizer steps")->capture_default_str();
  command.add_option("--lr", o.lr, "peak learning rate")->capture_default_str();
  command.add_option("--min-lr", o.min_lr, "final learning rate of the cosine decay")
      ->capture_default_str();
  command.add_option("--warmup-steps", o.warmup_steps, "linear warmup steps")
      ->capture_default_str();
  command.add_option("--weight-decay", o.weight_decay, "AdamW weight decay (matrices only)")
      ->capture_default_str();
  command.add_option("--grad-clip", o.grad_clip, "clip the global gradient norm (0 = off)")
      ->capture_default_str();
  command.add_option("--seed", o.seed, "init and data-order seed")->capture_default_str();
  command.add_option("--save-interval", o.save_interval, "steps between checkpoints")
      ->capture_default_str();
  command.add_option("--val-interval", o.val_interval, "steps between validations")
      ->capture_default_str();
  command.add_option("--val-batches", o.val_batches, "batches per validation (<=0: all)")
      ->capture_default_str();
  command.add_option("--log-interval", o.log_interval, "steps between progress lines")
      ->capture_default_str();
  command.add_option("--keep-checkpoints", o.keep_checkpoints, "newest checkpoints to keep")
      ->capture_default_str();
  command.add_option("--threads,-t", o.threads, "CPU threads (0 = every core)");
  command
      .add_option("--device", o.device,
                  "where the training math runs: cpu, or cuda (parameters, gradients and the "
                  "optimizer on the GPU; same checkpoints)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  command.add_option("--stop-at-step", o.stop_at_step,
                     "checkpoint and stop at this step (resume later with --load)");
}

int run_training(const TrainOptions& options) {
  g_stop_training = false;
  std::signal(SIGINT, on_training_sigint);
  const TrainResult result = train(options, &g_stop_training);
  std::fprintf(stderr, "%s at step %lld, loss %.4f%s; checkpoint %s\n",
               result.interrupted ? "stopped" : "finished",
               static_cast<long long>(result.final_step), result.final_loss,
               std::isnan(result.best_val_loss)
                   ? ""
                   : concat(", best val loss ", result.best_val_loss).c_str(),
               result.last_checkpoint.string().c_str());
  return result.interrupted ? 130 : 0;
}

CommandRunner add_train_command(CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  CLI::App* command = app.add_subcommand("train", "train a model on a prepared token file");
  add_train_options(*command, *options);
  return [options] { return run_training(*options); };
}

}  // namespace bit_ttt::cli
