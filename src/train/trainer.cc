#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "bit_ttt/error.h"
#include "bit_ttt/tokenizer.h"
#include "core/atomic_file.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/read_file.h"
#include "core/thread_pool.h"
#include "data/batch_sampler.h"
#include "data/token_file.h"
#include "data/token_file_check.h"
#include "model/weights.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/lr_schedule.h"
#include "train/train_device.h"

namespace bit_ttt {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::filesystem::path training_file(const std::filesystem::path& data) {
  if (std::filesystem::is_directory(data)) return data / "train.bin";
  return data;
}

// Writes a model directory (no optimizer) atomically: temp dir + rename.
void save_model_directory(const std::filesystem::path& directory, const ModelParams& params,
                          const std::string& tokenizer_json, int64_t step, double val_loss) {
  std::error_code error;
  const auto temp = directory.parent_path() / (directory.filename().string() + ".tmp");
  std::filesystem::remove_all(temp, error);
  std::filesystem::create_directories(temp, error);
  if (error) fail(temp.string(), ": cannot create directory: ", error.message());
  params.save_safetensors(temp / "model.safetensors", {{"format", "bit-ttt-model"},
                                                       {"step", std::to_string(step)},
                                                       {"val_loss", std::to_string(val_loss)}});
  params.config.save(temp / "config.json");
  write_file_atomically(temp / "tokenizer.json", tokenizer_json);
  std::filesystem::remove_all(directory, error);
  std::filesystem::rename(temp, directory, error);
  if (error) fail(directory.string(), ": cannot move model into place: ", error.message());
}

void append_metrics(const std::filesystem::path& path, const Json& record) {
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (!file) fail(path.string(), ": cannot append metrics");
  const std::string line = record.dump() + "\n";
  const bool ok = std::fwrite(line.data(), 1, line.size(), file) == line.size();
  std::fclose(file);
  if (!ok) fail(path.string(), ": cannot append metrics (disk full?)");
}

}  // namespace

std::string TrainOptions::to_json() const {
  return Json{{"dim", dim},
              {"layers", layers},
              {"inner_lr", inner_lr},
              {"activation_quant", activation_quant},
              {"data", data.string()},
              {"context_len", context_len},
              {"batch_size", batch_size},
              {"grad_accum", grad_accum},
              {"steps", steps},
              {"lr", lr},
              {"min_lr", min_lr},
              {"warmup_steps", warmup_steps},
              {"weight_decay", weight_decay},
              {"grad_clip", grad_clip},
              {"seed", seed},
              {"save_interval", save_interval},
              {"val_interval", val_interval},
              {"threads", threads},
              {"device", device}}
      .dump();
}

TrainResult train(const TrainOptions& options, const std::atomic<bool>* stop_requested) {
  if (options.context_len < 2) fail("--context-len must be at least 2, got ", options.context_len);
  if (options.batch_size < 1) fail("--batch-size must be at least 1, got ", options.batch_size);
  if (options.grad_accum < 1) fail("--grad-accum must be at least 1, got ", options.grad_accum);
  if (options.steps < 1) fail("--steps must be at least 1, got ", options.steps);
  if (!(options.lr > 0)) fail("--lr must be positive, got ", options.lr);
  if (options.min_lr < 0 || options.min_lr > options.lr)
    fail("--min-lr must be in [0, lr], got ", options.min_lr);
  if (options.threads > 0) set_default_thread_count(options.threads);

  // Data and tokenizer.
  const std::filesystem::path train_path = training_file(options.data);
  const data::TokenFile train_file = data::TokenFile::open(train_path);
  std::filesystem::path val_path = options.val_data;
  if (val_path.empty() && std::filesystem::exists(train_path.parent_path() / "val.bin"))
    val_path = train_path.parent_path() / "val.bin";
  std::optional<data::TokenFile> val_file;
  if (!val_path.empty()) val_file = data::TokenFile::open(val_path);
  std::filesystem::path tokenizer_path = options.tokenizer;
  if (tokenizer_path.empty()) tokenizer_path = train_path.parent_path() / "tokenizer.json";
  if (!std::filesystem::exists(tokenizer_path))
    fail("no tokenizer: ", tokenizer_path.string(),
         " does not exist (pass --tokenizer FILE, the "
         "tokenizer.json the data was prepared with)");
  const std::string tokenizer_json = read_file_to_string(tokenizer_path);
  const Tokenizer tokenizer = Tokenizer::from_json_text(tokenizer_json, tokenizer_path.string());
  data::check_token_file_matches(train_file, tokenizer);
  if (val_file) data::check_token_file_matches(*val_file, tokenizer);

  // Model, optimizer and position: fresh or from a checkpoint.
  ModelParams params;
  AdamWState optimizer;
  TrainerState state;
  if (!options.load.empty()) {
    const auto checkpoint_dir = resolve_checkpoint(options.load);
    Checkpoint checkpoint = load_checkpoint(checkpoint_dir);
    params = std::move(checkpoint.params);
    optimizer = std::move(checkpoint.optimizer);
    state = checkpoint.trainer;
    log_info("resuming from ", checkpoint_dir.string(), " at step ", state.step);
    // The model remembers the tokenizer it was trained with: new data must match it.
    std::string model_fingerprint = tokenizer.fingerprint();
    if (auto it = params.config.extra_keys.find("tokenizer_fingerprint");
        it != params.config.extra_keys.end())
      model_fingerprint = Json::parse(it->second).get<std::string>();
    data::check_token_file_matches(train_file, params.config.vocab_size, model_fingerprint);
  } else {
    BitLlamaConfig config;
    config.vocab_size = train_file.vocab_size();
    config.hidden_dim = options.dim;
    config.num_layers = options.layers;
    config.inner_lr = options.inner_lr;
    config.activation_quant = parse_activation_quant(options.activation_quant);
    if (const auto eos = train_file.eos_id()) config.eos_token_id = *eos;
    config.extra_keys["tokenizer_fingerprint"] = Json(tokenizer.fingerprint()).dump();
    config.finalize("training options");
    params = ModelParams::zeros(config);
    fill_random_init(config, options.seed, params.values);
    optimizer = make_adamw_state(params);
  }
  const BitLlamaConfig& config = params.config;
  if (state.step >= options.steps)
    fail("the checkpoint is at step ", state.step, " and --steps is ", options.steps,
         ": nothing to do (raise --steps to continue training)");
  const int64_t seq_len = options.context_len + 1;  // inputs + the last target
  if (train_file.n_tokens() < seq_len)
    fail(train_path.string(), " holds ", train_file.n_tokens(),
         " tokens, fewer than one training "
         "window of ",
         seq_len, " (context ", options.context_len, " + 1)");

  data::BatchSampler sampler(train_file, options.context_len, options.batch_size, options.seed);
  if (state.n_batches_drawn > 0) {
    data::SamplerState sampler_state = sampler.state();
    sampler_state.n_batches_drawn = static_cast<uint64_t>(state.n_batches_drawn);
    sampler.restore(sampler_state);
  }
  // Validation reads at most val_batches × batch windows, once.
  std::vector<int32_t> val_tokens;
  if (val_file) {
    int64_t wanted = val_file->n_tokens();
    if (options.val_batches > 0)
      wanted = std::min(wanted, options.val_batches * options.batch_size * options.context_len + 1);
    val_tokens = val_file->read(0, wanted);
    if (static_cast<int64_t>(val_tokens.size()) < seq_len) {
      log_warning(val_path.string(), " holds fewer than ", seq_len, " tokens: no validation");
      val_file.reset();
    }
  }
  const std::unique_ptr<TrainDevice> device =
      make_train_device(parse_device(options.device), params, optimizer);
  const LrSchedule schedule{options.lr, options.min_lr, options.warmup_steps, options.steps};
  const AdamWConfig adamw{0.9, 0.95, 1e-8, options.weight_decay};
  state.options_json = options.to_json();

  std::error_code error;
  std::filesystem::create_directories(options.output_dir, error);
  if (error)
    fail(options.output_dir.string(), ": cannot create output directory: ", error.message());
  const auto metrics_path = options.output_dir / "metrics.jsonl";

  log_info("training ", config.shape_string(), " (", config.n_parameters() / 1e6, "M parameters, ",
           activation_quant_name(config.activation_quant), " activations) on ", train_path.string(),
           " (", train_file.n_tokens(), " tokens), batch ", options.batch_size, "x",
           options.context_len, (options.grad_accum > 1 ? concat(" x", options.grad_accum) : ""),
           ", on ", device->description());

  TrainResult result;
  result.best_val_loss = state.best_val_loss;
  data::TokenBatch batch;
  std::vector<int32_t> sequences(static_cast<size_t>(options.batch_size * seq_len));
  const int64_t tokens_per_step = options.batch_size * options.context_len * options.grad_accum;
  const auto run_start = Clock::now();
  const int64_t first_step = state.step;
  auto log_start = Clock::now();
  int64_t log_tokens = 0;
  double log_loss_sum = 0;
  int64_t log_count = 0;

  auto save = [&](const char* why) {
    const auto path = checkpoint_path(options.output_dir, state.step);
    device->sync_to_host();
    save_checkpoint(path, params, optimizer, state, tokenizer_json);
    prune_checkpoints(options.output_dir, options.keep_checkpoints);
    result.last_checkpoint = path;
    log_info("saved checkpoint ", path.string(), " (", why, ")");
  };

  while (state.step < options.steps) {
    if (stop_requested && stop_requested->load()) {
      save("interrupted");
      result.interrupted = true;
      break;
    }
    if (options.stop_at_step > 0 && state.step >= options.stop_at_step) {
      if (result.last_checkpoint != checkpoint_path(options.output_dir, state.step))
        save("--stop-at-step");
      break;
    }
    device->zero_grads();
    double step_loss = 0;
    for (int64_t micro = 0; micro < options.grad_accum; ++micro) {
      sampler.next(batch);
      ++state.n_batches_drawn;
      for (int64_t b = 0; b < options.batch_size; ++b) {
        std::copy_n(batch.inputs.begin() + b * options.context_len, options.context_len,
                    sequences.begin() + b * seq_len);
        sequences[static_cast<size_t>(b * seq_len + options.context_len)] =
            batch.targets[static_cast<size_t>((b + 1) * options.context_len - 1)];
      }
      step_loss += device->forward_backward(sequences, options.batch_size, seq_len,
                                            1.0f / static_cast<float>(options.grad_accum));
    }
    step_loss /= static_cast<double>(options.grad_accum);
    if (!std::isfinite(step_loss))
      fail("loss became ", step_loss, " at step ", state.step + 1,
           "; stopping without saving (the last good checkpoint is ",
           result.last_checkpoint.empty() ? std::string("none from this run")
                                          : result.last_checkpoint.string(),
           "). Try a lower --lr or more --warmup-steps.");
    const double grad_norm = device->clip_gradients(options.grad_clip);
    if (!std::isfinite(grad_norm))
      fail("gradient norm became ", grad_norm, " at step ", state.step + 1,
           "; stopping without saving. Try a lower --lr.");
    const double lr = schedule.at(state.step);
    device->adamw_step(adamw, lr);
    ++state.step;
    state.n_tokens_seen += tokens_per_step;
    log_tokens += tokens_per_step;
    log_loss_sum += step_loss;
    ++log_count;
    result.final_loss = step_loss;

    Json record = {{"step", state.step}, {"loss", step_loss}, {"lr", lr}, {"grad_norm", grad_norm}};
    const bool last = state.step == options.steps;
    if (state.step % options.log_interval == 0 || last || state.step == first_step + 1) {
      const double elapsed = seconds_since(log_start);
      const double rate = static_cast<double>(log_tokens) / std::max(elapsed, 1e-9);
      const double total_rate =
          static_cast<double>(state.n_tokens_seen - first_step * tokens_per_step) /
          std::max(seconds_since(run_start), 1e-9);
      const double eta = static_cast<double>((options.steps - state.step) * tokens_per_step) /
                         std::max(total_rate, 1e-9);
      std::fprintf(stderr,
                   "step %6lld/%lld | loss %.4f | lr %.2e | grad %.3f | %.0f tok/s | ETA %s\n",
                   static_cast<long long>(state.step), static_cast<long long>(options.steps),
                   log_loss_sum / static_cast<double>(log_count), lr, grad_norm, rate,
                   format_duration(eta).c_str());
      record["tokens_per_s"] = rate;
      log_start = Clock::now();
      log_tokens = 0;
      log_loss_sum = 0;
      log_count = 0;
    }
    if (val_file && (state.step % options.val_interval == 0 || last)) {
      const double val_loss =
          evaluate_loss([&](std::span<const int32_t> tokens, int64_t rows,
                            int64_t length) { return device->loss(tokens, rows, length); },
                        val_tokens, options.context_len, options.batch_size, 0)
              .mean_loss;
      record["val_loss"] = val_loss;
      std::fprintf(stderr, "step %6lld | val loss %.4f | val ppl %.2f\n",
                   static_cast<long long>(state.step), val_loss, std::exp(val_loss));
      if (std::isfinite(val_loss) &&
          (std::isnan(state.best_val_loss) || val_loss < state.best_val_loss)) {
        state.best_val_loss = val_loss;
        device->sync_to_host();
        save_model_directory(options.output_dir / "best", params, tokenizer_json, state.step,
                             val_loss);
      }
      result.best_val_loss = state.best_val_loss;
    }
    append_metrics(metrics_path, record);
    if (state.step % options.save_interval == 0 || last) save(last ? "final" : "interval");
  }
  result.final_step = state.step;
  return result;
}

}  // namespace bit_ttt
