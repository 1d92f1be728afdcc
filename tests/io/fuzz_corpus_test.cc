// The fuzzing seeds (fuzz/corpus, written by fuzz/make_corpus.py with Python's
// standard library, independent of our writer) must all be accepted: a seed the
// parser rejects would steer the fuzzer away from the interesting paths, and a
// rejection here means our reader disagrees with a plain reading of the format.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/bitt.h"
#include "io/npy.h"
#include "io/safetensors.h"

namespace bit_ttt {
namespace {

std::filesystem::path corpus_dir(const char* kind) {
  // tests/io/this_file.cc -> repository root
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" /
         "corpus" / kind;
}

TEST(FuzzCorpus, EverySafetensorsSeedParses) {
  const auto dir = corpus_dir("safetensors");
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no seed corpus at " << dir;
  int n_seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_NO_THROW(SafetensorsReader::open(entry.path())) << entry.path();
    ++n_seeds;
  }
  EXPECT_GE(n_seeds, 5);
  const auto reader = SafetensorsReader::open(dir / "all_dtypes.safetensors");
  EXPECT_EQ(reader.tensors().size(), 16u);
}

TEST(FuzzCorpus, EveryNpySeedParses) {
  const auto dir = corpus_dir("npy");
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no seed corpus at " << dir;
  int n_seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_NO_THROW(read_npy(entry.path())) << entry.path();
    ++n_seeds;
  }
  EXPECT_GE(n_seeds, 5);
}

TEST(FuzzCorpus, EveryBittSeedParsesAndVerifies) {
  const auto dir = corpus_dir("bitt");
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no seed corpus at " << dir;
  int n_seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_NO_THROW(BittFile::open(entry.path()).verify()) << entry.path();
    ++n_seeds;
  }
  EXPECT_GE(n_seeds, 4);
  // The seeds' checksums come from the system libxxhash through Python's ctypes,
  // so this also checks that our checksum is the documented XXH3-64.
  const auto file = BittFile::open(dir / "all_dtypes.bitt");
  EXPECT_EQ(file.tensors().size(), 6u);
}

}  // namespace
}  // namespace bit_ttt
