// BPE training speed: a byte-level BPE of vocab 16384 with <|endoftext|> on
// TinyStories (or the given file), all cores. One JSON line on stdout:
// mb_per_s is the word counting pass, merges_per_s the merge loop.
//   bench_bpe_train [TEXT_FILE] [VOCAB_SIZE] [THREADS]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "bit_ttt/error.h"
#include "core/thread_pool.h"
#include "tokenizer/bpe_trainer.h"

int main(int argc, char** argv) {
  const std::filesystem::path data = BIT_TTT_SHARED_DATA_DIR;
  const std::filesystem::path text_path =
      argc > 1 ? std::filesystem::path(argv[1]) : data / "tinystories" / "train.txt";
  bit_ttt::tokenizer::BpeTrainOptions options;
  options.vocab_size = argc > 2 ? std::atoi(argv[2]) : 16384;
  options.n_threads = argc > 3 ? std::atoi(argv[3]) : bit_ttt::hardware_thread_count();
  options.special_tokens = {"<|endoftext|>"};
  try {
    const bit_ttt::tokenizer::BpeTrainResult result =
        bit_ttt::tokenizer::train_bpe({text_path}, options);
    const double mb = static_cast<double>(result.n_bytes) / 1e6;
    const nlohmann::json report = {
        {"bench", "bpe_train"},
        {"text", text_path.filename().string()},
        {"bytes", result.n_bytes},
        {"vocab_size", result.vocab.size()},
        {"merges", result.merges.size()},
        {"distinct_words", result.n_distinct_words},
        {"mb_per_s", mb / result.count_seconds},
        {"merges_per_s", static_cast<double>(result.merges.size()) / result.merge_seconds},
        {"count_seconds", result.count_seconds},
        {"merge_seconds", result.merge_seconds},
        {"seconds", result.count_seconds + result.merge_seconds},
        {"threads", options.n_threads},
    };
    std::cout << report.dump() << std::endl;
    return 0;
  } catch (const bit_ttt::Error& e) {
    std::fprintf(stderr, "bench_bpe_train: %s\n", e.what());
    return 1;
  }
}
