// The training loop: exact resume, checkpoints usable for inference, loss goes
// down, hard errors (bad checkpoint, data/tokenizer mismatch, NaN) lose nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bit_ttt/llama.h"
#include "bit_ttt/tokenizer.h"
#include "core/atomic_file.h"
#include "core/read_file.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "train/trainer_test_util.h"

namespace bit_ttt {
namespace {

using testing::expect_error;
using testing::prepare_small_corpus;
using testing::small_options;
using testing::TempDir;

std::vector<double> losses(const std::filesystem::path& metrics) {
  std::vector<double> result;
  std::istringstream lines(read_file_to_string(metrics));
  for (std::string line; std::getline(lines, line);)
    result.push_back(nlohmann::json::parse(line).at("loss").get<double>());
  return result;
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override { prepare_small_corpus(dir_); }
  TempDir dir_;
};

TEST_F(TrainerTest, InterruptedAndResumedRunReproducesTheLossTrajectory) {
  const TrainResult full = train(small_options(dir_, "full"));
  EXPECT_EQ(full.final_step, 12);
  TrainOptions first = small_options(dir_, "staged");
  first.stop_at_step = 7;
  EXPECT_EQ(train(first).final_step, 7);
  TrainOptions second = small_options(dir_, "staged");
  second.load = dir_ / "staged";
  const TrainResult resumed = train(second);
  EXPECT_EQ(resumed.final_step, 12);
  const auto a = losses(dir_ / "full" / "metrics.jsonl");
  const auto b = losses(dir_ / "staged" / "metrics.jsonl");
  ASSERT_EQ(a.size(), 12u);
  EXPECT_EQ(a, b);  // bit for bit
  EXPECT_EQ(testing::read_file_bytes(full.last_checkpoint / "model.safetensors"),
            testing::read_file_bytes(resumed.last_checkpoint / "model.safetensors"));
}

TEST_F(TrainerTest, StopFlagSavesAndCheckpointsAreUsableModels) {
  std::atomic<bool> stop{true};
  const TrainResult stopped = train(small_options(dir_, "run"), &stop);
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_TRUE(std::filesystem::exists(stopped.last_checkpoint / "trainer_state.json"));

  const TrainResult done = train(small_options(dir_, "run2"));
  // Latest few kept (interval 5: steps 5, 10, 12), the best by validation loss too.
  EXPECT_EQ(list_checkpoints(dir_ / "run2").size(), 3u);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "run2" / "best" / "model.safetensors"));
  Llama llama = Llama::load_auto(done.last_checkpoint);
  GenerateOptions options;
  options.max_tokens = 5;
  EXPECT_EQ(llama.generate("Story", options).n_prompt_tokens, 5);
  // Loss went down on this easy corpus.
  const auto trajectory = losses(dir_ / "run2" / "metrics.jsonl");
  EXPECT_LT(trajectory.back(), trajectory.front() - 0.2)
      << trajectory.front() << " -> " << trajectory.back();
}

TEST_F(TrainerTest, BadCheckpointIsAnErrorNeverAFreshStart) {
  TrainOptions first = small_options(dir_, "run");
  first.stop_at_step = 5;
  train(first);
  const auto checkpoint = resolve_checkpoint(dir_ / "run");
  auto weights = testing::read_file_bytes(checkpoint / "optimizer.safetensors");
  testing::write_file_bytes(checkpoint / "optimizer.safetensors",
                            weights.substr(0, weights.size() / 2));
  TrainOptions resume = small_options(dir_, "run");
  resume.load = dir_ / "run";
  expect_error([&] { train(resume); }, {"optimizer.safetensors"});
  resume.load = dir_ / "nowhere";
  expect_error([&] { train(resume); }, {"nowhere"});
  std::filesystem::remove(checkpoint / "trainer_state.json");
  resume.load = checkpoint;
  expect_error([&] { train(resume); }, {"not a training checkpoint"});
}

TEST_F(TrainerTest, TokenizerMismatchIsAHardError) {
  write_file_atomically(dir_ / "other.json", byte_level_tokenizer_json({"<|endoftext|>", "<pad>"}));
  TrainOptions options = small_options(dir_, "run");
  options.tokenizer = dir_ / "other.json";
  expect_error([&] { train(options); }, {"fingerprint"});
}

TEST_F(TrainerTest, DivergenceStopsWithoutOverwritingCheckpoints) {
  TrainOptions options = small_options(dir_, "run");
  options.lr = 1e30;
  options.warmup_steps = 0;
  options.grad_clip = 0;
  options.save_interval = 1;
  try {
    train(options);
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("stopping without saving"), std::string::npos) << message;
    // Every checkpoint written holds finite weights.
    for (const auto& checkpoint : list_checkpoints(dir_ / "run")) {
      const Checkpoint loaded = load_checkpoint(checkpoint);
      for (float v : loaded.params.values) ASSERT_TRUE(std::isfinite(v)) << checkpoint;
    }
    return;
  }
  FAIL() << "expected the run to diverge";
}

}  // namespace
}  // namespace bit_ttt
