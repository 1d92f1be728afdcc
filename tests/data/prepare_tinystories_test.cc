// prepare on the real TinyStories sample with the GPT-2 tokenizer, checked
// against an independent split of the file into stories.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/read_file.h"
#include "data/batch_sampler.h"
#include "data/prepare.h"
#include "data/split.h"
#include "data/token_file.h"
#include "data/token_file_check.h"
#include "data_test_util.h"
#include "test_util.h"

namespace bit_ttt::testing {
namespace {

// Stories are the runs of lines between "<|endoftext|>" lines.
std::vector<std::string> split_stories(const std::string& text) {
  std::vector<std::string> stories;
  std::istringstream in(text);
  std::string line, story;
  bool any = false;
  auto finish = [&] {
    if (any) stories.push_back(story);
    story.clear();
    any = false;
  };
  while (std::getline(in, line)) {
    if (line == "<|endoftext|>") {
      finish();
      continue;
    }
    if (any) story += '\n';
    story += line;
    any = true;
  }
  finish();
  return stories;
}

TEST(PrepareTinyStories, TokenCountsMatchEncodingEachStory) {
  BT_REQUIRE_SHARED("tinystories/train.txt", corpus);
  BT_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json", tokenizer_path);
  const Tokenizer tokenizer = Tokenizer::load(tokenizer_path.string());
  const std::vector<std::string> stories = split_stories(read_file_to_string(corpus));
  ASSERT_EQ(stories.size(), 2824u);
  std::vector<std::string> train_stories, val_stories;
  for (const auto& story : stories)
    (data::is_validation_document(story, 0.01) ? val_stories : train_stories).push_back(story);

  TempDir dir;
  data::PrepareOptions options;
  options.inputs = {corpus};
  options.out_dir = dir / "out";
  options.n_threads = 2;
  options.chunk_bytes = 256 << 10;  // several rounds
  options.progress = ProgressBar::Style::none;
  const data::PrepareStats stats = data::prepare_corpus(options, tokenizer);
  EXPECT_EQ(stats.n_documents(), 2824);
  EXPECT_EQ(stats.n_val_documents, static_cast<int64_t>(val_stories.size()));
  EXPECT_GT(stats.n_val_documents, 10);
  EXPECT_EQ(stats.n_bytes, std::filesystem::file_size(corpus));

  const data::TokenFile train = data::TokenFile::open(dir / "out/train.bin");
  const data::TokenFile val = data::TokenFile::open(dir / "out/val.bin");
  data::check_token_file_matches(train, tokenizer);
  EXPECT_EQ(train.token_width(), 2u);
  EXPECT_EQ(train.vocab_size(), 50257u);
  EXPECT_EQ(train.eos_id(), 50256);
  EXPECT_EQ(all_tokens(train), encode_documents(tokenizer, train_stories));
  EXPECT_EQ(all_tokens(val), encode_documents(tokenizer, val_stories));

  data::BatchSampler sampler(train, 128, 4, 0);
  const data::TokenBatch batch = sampler.next();
  EXPECT_EQ(batch.inputs.size(), 512u);
  EXPECT_FALSE(data::validation_batches(val, 128, 4, 2).empty());
}

}  // namespace
}  // namespace bit_ttt::testing
