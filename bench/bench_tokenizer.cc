// Encoding throughput of the tokenizers in ../shared/data on TinyStories:
// one JSON object per tokenizer on stdout, best of 3 runs.
//   bench_tokenizer [TEXT_FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bit_ttt/error.h"
#include "bit_ttt/tokenizer.h"

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bit_ttt::fail("cannot open ", path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path data = BIT_TTT_SHARED_DATA_DIR;
  const std::filesystem::path text_path =
      argc > 1 ? std::filesystem::path(argv[1]) : data / "tinystories" / "train.txt";
  try {
    const std::string text = read_file(text_path);
    bool ran_any = false;
    for (const char* name : {"gpt2", "tinyllama", "llama3"}) {
      const auto tokenizer_path = data / "tokenizers" / name / "tokenizer.json";
      if (!std::filesystem::exists(tokenizer_path)) {
        std::fprintf(stderr, "skipping %s: %s not found\n", name, tokenizer_path.c_str());
        continue;
      }
      const bit_ttt::Tokenizer tokenizer = bit_ttt::Tokenizer::load(tokenizer_path.string());
      double best_seconds = 1e30;
      size_t n_tokens = 0;
      for (int run = 0; run < 3; ++run) {
        const auto start = std::chrono::steady_clock::now();
        const std::vector<int32_t> ids = tokenizer.encode(text);
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        best_seconds = std::min(best_seconds, elapsed.count());
        n_tokens = ids.size();
      }
      const nlohmann::json result = {
          {"bench", "tokenizer_encode"},
          {"tokenizer", name},
          {"text", text_path.filename().string()},
          {"bytes", text.size()},
          {"tokens", n_tokens},
          {"seconds", best_seconds},
          {"mb_per_s", static_cast<double>(text.size()) / 1e6 / best_seconds},
      };
      std::cout << result.dump() << std::endl;
      ran_any = true;
    }
    return ran_any ? 0 : 1;
  } catch (const bit_ttt::Error& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 1;
  }
}
