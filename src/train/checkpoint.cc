#include "train/checkpoint.h"

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "bit_ttt/error.h"
#include "core/atomic_file.h"
#include "core/read_file.h"
#include "io/safetensors.h"

namespace bit_ttt {
namespace {

using Json = nlohmann::json;
constexpr const char* kCheckpointFormat = "bit-ttt-checkpoint";
constexpr int kCheckpointVersion = 1;

void write_optimizer(const std::filesystem::path& path, const ModelParams& params,
                     const AdamWState& optimizer) {
  std::vector<SafetensorsTensorToWrite> tensors;
  for (const ParamEntry& entry : params.entries) {
    tensors.push_back({"exp_avg." + entry.name, DType::f32, entry.shape,
                       std::as_bytes(std::span<const float>(optimizer.exp_avg.data() + entry.offset,
                                                            entry.count))});
    tensors.push_back({"exp_avg_sq." + entry.name, DType::f32, entry.shape,
                       std::as_bytes(std::span<const float>(
                           optimizer.exp_avg_sq.data() + entry.offset, entry.count))});
  }
  write_safetensors(path, tensors, {{"step", std::to_string(optimizer.step)}});
}

AdamWState read_optimizer(const std::filesystem::path& path, const ModelParams& params) {
  const SafetensorsReader reader = SafetensorsReader::open(path);
  AdamWState state = make_adamw_state(params);
  auto step = reader.metadata().find("step");
  if (step == reader.metadata().end()) fail(path.string(), ": missing metadata 'step'");
  try {
    state.step = std::stoll(step->second);
  } catch (const std::exception&) {
    fail(path.string(), ": metadata 'step' is not a number: ", step->second);
  }
  for (const ParamEntry& entry : params.entries) {
    const F32Data m = reader.load_f32("exp_avg." + entry.name, entry.shape);
    const F32Data v = reader.load_f32("exp_avg_sq." + entry.name, entry.shape);
    std::copy(m.data, m.data + m.count,
              state.exp_avg.begin() + static_cast<ptrdiff_t>(entry.offset));
    std::copy(v.data, v.data + v.count,
              state.exp_avg_sq.begin() + static_cast<ptrdiff_t>(entry.offset));
  }
  return state;
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& output_dir, int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step-%08lld", static_cast<long long>(step));
  return output_dir / "checkpoints" / name;
}

void save_checkpoint(const std::filesystem::path& directory, const ModelParams& params,
                     const AdamWState& optimizer, const TrainerState& trainer,
                     const std::string& tokenizer_json) {
  std::error_code error;
  std::filesystem::create_directories(directory.parent_path(), error);
  if (error) fail(directory.parent_path().string(), ": cannot create directory: ", error.message());
  const std::filesystem::path temp = directory.parent_path() / (directory.filename().string() +
                                                                ".tmp-" + std::to_string(getpid()));
  std::filesystem::remove_all(temp, error);
  std::filesystem::create_directory(temp, error);
  if (error) fail(temp.string(), ": cannot create directory: ", error.message());
  try {
    params.save_safetensors(temp / "model.safetensors",
                            {{"format", "bit-ttt-model"}, {"step", std::to_string(trainer.step)}});
    params.config.save(temp / "config.json");
    if (!tokenizer_json.empty()) write_file_atomically(temp / "tokenizer.json", tokenizer_json);
    write_optimizer(temp / "optimizer.safetensors", params, optimizer);
    Json state = {{"format", kCheckpointFormat},
                  {"version", kCheckpointVersion},
                  {"step", trainer.step},
                  {"n_batches_drawn", trainer.n_batches_drawn},
                  {"n_tokens_seen", trainer.n_tokens_seen},
                  {"best_val_loss",
                   std::isnan(trainer.best_val_loss) ? Json(nullptr) : Json(trainer.best_val_loss)},
                  {"options", trainer.options_json.empty() ? Json::object()
                                                           : Json::parse(trainer.options_json)}};
    write_file_atomically(temp / "trainer_state.json", state.dump(2) + "\n");
    // Replace any older checkpoint of the same name, then move into place.
    std::filesystem::remove_all(directory, error);
    std::filesystem::rename(temp, directory, error);
    if (error) fail(directory.string(), ": cannot move checkpoint into place: ", error.message());
  } catch (...) {
    std::filesystem::remove_all(temp, error);
    throw;
  }
}

Checkpoint load_checkpoint(const std::filesystem::path& directory) {
  if (!std::filesystem::is_directory(directory))
    fail(directory.string(), ": not a checkpoint directory");
  const std::filesystem::path state_path = directory / "trainer_state.json";
  if (!std::filesystem::exists(state_path))
    fail(directory.string(),
         ": not a training checkpoint (no trainer_state.json); to start from "
         "these weights use them as an initial model, not --load");
  Json state;
  try {
    state = Json::parse(read_file_to_string(state_path));
    if (state.value("format", "") != kCheckpointFormat)
      fail(state_path.string(), ": not a Bit-TTT checkpoint");
    if (state.value("version", 0) != kCheckpointVersion)
      fail(state_path.string(), ": unsupported checkpoint version ", state.value("version", 0));
  } catch (const Json::exception& error) {
    fail(state_path.string(), ": corrupt trainer state: ", error.what());
  }
  Checkpoint checkpoint;
  checkpoint.params = ModelParams::load(directory);
  checkpoint.optimizer = read_optimizer(directory / "optimizer.safetensors", checkpoint.params);
  try {
    checkpoint.trainer.step = state.at("step").get<int64_t>();
    checkpoint.trainer.n_batches_drawn = state.at("n_batches_drawn").get<int64_t>();
    checkpoint.trainer.n_tokens_seen = state.at("n_tokens_seen").get<int64_t>();
    const Json& best = state.at("best_val_loss");
    checkpoint.trainer.best_val_loss =
        best.is_null() ? std::numeric_limits<double>::quiet_NaN() : best.get<double>();
    checkpoint.trainer.options_json = state.at("options").dump();
  } catch (const Json::exception& error) {
    fail(state_path.string(), ": corrupt trainer state: ", error.what());
  }
  if (checkpoint.optimizer.step != checkpoint.trainer.step)
    fail(directory.string(), ": optimizer step ", checkpoint.optimizer.step,
         " does not match trainer step ", checkpoint.trainer.step);
  if (std::filesystem::exists(directory / "tokenizer.json"))
    checkpoint.tokenizer_json = read_file_to_string(directory / "tokenizer.json");
  return checkpoint;
}

std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& output_dir) {
  std::vector<std::filesystem::path> found;
  const auto root = output_dir / "checkpoints";
  if (!std::filesystem::is_directory(root)) return found;
  for (const auto& item : std::filesystem::directory_iterator(root)) {
    const std::string name = item.path().filename().string();
    if (item.is_directory() && name.rfind("step-", 0) == 0 &&
        name.find(".tmp") == std::string::npos)
      found.push_back(item.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::filesystem::path resolve_checkpoint(const std::filesystem::path& path) {
  if (std::filesystem::exists(path / "trainer_state.json")) return path;
  if (std::filesystem::exists(path / "model.safetensors"))
    fail(path.string(), ": not a training checkpoint (no trainer_state.json): it holds model "
         "weights but no optimizer state or data position to resume from");
  const auto found = list_checkpoints(path);
  if (found.empty())
    fail(path.string(),
         ": no checkpoint here (expected trainer_state.json, or checkpoints/step-* "
         "inside a training output directory)");
  return found.back();
}

void prune_checkpoints(const std::filesystem::path& output_dir, int keep) {
  auto found = list_checkpoints(output_dir);
  std::error_code error;
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < found.size(); ++i)
    std::filesystem::remove_all(found[i], error);
}

}  // namespace bit_ttt
