// `bit_llama prepare`: tokenizes a text corpus into train.bin and val.bin
// token files (docs/data-format.md). Streaming: files are read in blocks,
// documents are grouped into chunks encoded in parallel (output order does not
// depend on the thread count), and tokens are written as they come, so memory
// stays bounded (about 2 x threads x chunk_bytes, plus the largest document)
// whatever the corpus size.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bit_ttt/tokenizer.h"
#include "core/progress.h"

namespace bit_ttt::data {

struct PrepareOptions {
  std::vector<std::filesystem::path> inputs;  // files and directories
  std::filesystem::path tokenizer_path;       // tokenizer.json or a directory holding one
  std::filesystem::path out_dir;              // gets train.bin and val.bin
  // Fraction of documents (chosen by a hash of their text) that go to val.bin.
  double val_fraction = 0.01;
  std::string jsonl_field = "text";
  std::string separator = "<|endoftext|>";  // a line that ends a text document
  bool skip_invalid = false;                // skip (and count) documents with invalid UTF-8
  bool no_eos = false;                      // allow a tokenizer without EOS: no separator token
  int n_threads = 0;                        // 0 = all hardware threads
  // The train split must hold at least one training window: context 128 + 1.
  int64_t min_tokens = 129;
  size_t chunk_bytes = 4 << 20;  // text per worker per round
  ProgressBar::Style progress = ProgressBar::Style::automatic;
};

struct PrepareStats {
  int64_t n_files = 0;
  uint64_t n_bytes = 0;  // input bytes read
  int64_t n_train_documents = 0, n_val_documents = 0;
  int64_t n_train_tokens = 0, n_val_tokens = 0;  // EOS tokens included
  int64_t n_skipped_invalid = 0;                 // --skip-invalid only
  int64_t n_empty_documents = 0;                 // whitespace-only: dropped
  std::string first_skipped;                     // the first skipped document's error
  double seconds = 0;
  std::filesystem::path train_path, val_path;

  int64_t n_documents() const { return n_train_documents + n_val_documents; }
  int64_t n_tokens() const { return n_train_tokens + n_val_tokens; }
};

// Loads options.tokenizer_path and runs prepare.
PrepareStats prepare_corpus(const PrepareOptions& options);
// With a tokenizer already loaded (options.tokenizer_path is ignored).
PrepareStats prepare_corpus(const PrepareOptions& options, const Tokenizer& tokenizer);

// Human-readable summary, several lines.
std::string format_prepare_summary(const PrepareStats& stats);

}  // namespace bit_ttt::data
