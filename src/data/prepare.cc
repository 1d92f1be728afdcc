#include "data/prepare.h"

#include "core/atomic_file.h"
#include "core/read_file.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>

#include "bit_ttt/error.h"
#include "core/thread_pool.h"
#include "data/corpus_files.h"
#include "data/document_reader.h"
#include "data/document_text.h"
#include "data/split.h"
#include "data/token_file.h"

namespace bit_ttt::data {
namespace {

struct DocumentOutcome {
  DocumentStatus status = DocumentStatus::ok;
  bool is_val = false;
  size_t n_tokens = 0;  // in Chunk::tokens, EOS not included
  std::string error;    // invalid_utf8 only
};

// Consecutive documents encoded by one worker. A worker never throws: the
// first failure is kept and rethrown by the writer in document order, so the
// error a run reports does not depend on scheduling.
struct Chunk {
  std::vector<RawDocument> documents;
  std::vector<int32_t> tokens;
  std::vector<DocumentOutcome> outcomes;
  std::exception_ptr failure;  // after outcomes.size() documents
};

void encode_chunk(Chunk& chunk, const std::vector<CorpusFile>& files, const Tokenizer& tokenizer,
                  const PrepareOptions& options) {
  try {
    for (RawDocument& document : chunk.documents) {
      DocumentText text = document_text(document, files[document.file_index], options.jsonl_field);
      DocumentOutcome outcome;
      outcome.status = text.status;
      outcome.error = std::move(text.error);
      if (text.status == DocumentStatus::ok) {
        outcome.is_val = is_validation_document(text.text, options.val_fraction);
        const std::vector<int32_t> ids = tokenizer.encode(text.text);
        chunk.tokens.insert(chunk.tokens.end(), ids.begin(), ids.end());
        outcome.n_tokens = ids.size();
      }
      chunk.outcomes.push_back(std::move(outcome));
      document.bytes = std::string();  // release the text early
    }
  } catch (...) {
    chunk.failure = std::current_exception();
  }
}

// Cuts `documents` into at most n_chunks runs of about equal bytes, in order.
std::vector<Chunk> make_chunks(std::vector<RawDocument>& documents, size_t total_bytes,
                               int n_chunks) {
  std::vector<Chunk> chunks(static_cast<size_t>(
      std::max<int64_t>(1, std::min<int64_t>(n_chunks, static_cast<int64_t>(documents.size())))));
  size_t chunk = 0, bytes = 0;
  for (RawDocument& document : documents) {
    const size_t limit = total_bytes * (chunk + 1) / chunks.size();
    if (bytes >= limit && chunk + 1 < chunks.size() && !chunks[chunk].documents.empty()) ++chunk;
    bytes += document.bytes.size();
    chunks[chunk].documents.push_back(std::move(document));
  }
  documents.clear();
  return chunks;
}

void check_options(const PrepareOptions& options) {
  if (options.inputs.empty()) fail("prepare: no inputs given");
  if (!(options.val_fraction >= 0 && options.val_fraction < 1))
    fail("prepare: --val-fraction must be in [0, 1), got ", options.val_fraction);
  if (options.separator.find_first_of("\r\n") != std::string::npos)
    fail("prepare: --separator must be a single line");
  if (options.jsonl_field.empty()) fail("prepare: --field must not be empty");
  if (options.n_threads < 0) fail("prepare: --threads must be >= 0, got ", options.n_threads);
  if (options.min_tokens < 0) fail("prepare: --min-tokens must be >= 0, got ", options.min_tokens);
  if (options.out_dir.empty()) fail("prepare: no output directory given");
}

std::unique_ptr<TokenFileWriter> open_output(const std::filesystem::path& path,
                                             const Tokenizer& tokenizer,
                                             std::optional<int32_t> eos_id) {
  try {
    return std::make_unique<TokenFileWriter>(path, static_cast<uint32_t>(tokenizer.vocab_size()),
                                             eos_id, tokenizer.fingerprint());
  } catch (const Error& error) {
    fail("prepare: cannot write to output directory ", path.parent_path().string(), ": ",
         error.what());
  }
}

void prepare_output_dir(const std::filesystem::path& out_dir) {
  std::error_code error;
  if (std::filesystem::exists(out_dir, error) && !std::filesystem::is_directory(out_dir, error))
    fail("prepare: output path ", out_dir.string(), " exists and is not a directory");
  std::filesystem::create_directories(out_dir, error);
  if (error)
    fail("prepare: cannot create output directory ", out_dir.string(), ": ", error.message());
}

}  // namespace

PrepareStats prepare_corpus(const PrepareOptions& options) {
  std::filesystem::path path = options.tokenizer_path;
  if (path.empty()) fail("prepare: no tokenizer given");
  if (std::filesystem::is_directory(path)) path /= "tokenizer.json";
  const std::string tokenizer_json = read_file_to_string(path);
  PrepareStats stats =
      prepare_corpus(options, Tokenizer::from_json_text(tokenizer_json, path.string()));
  // The tokenizer travels with its data: the trainer finds it beside train.bin
  // and puts it into every checkpoint.
  if (std::filesystem::absolute(path) != std::filesystem::absolute(options.out_dir / "tokenizer.json"))
    write_file_atomically(options.out_dir / "tokenizer.json", tokenizer_json);
  return stats;
}

PrepareStats prepare_corpus(const PrepareOptions& options, const Tokenizer& tokenizer) {
  const auto start = std::chrono::steady_clock::now();
  check_options(options);
  std::optional<int32_t> eos_id;
  if (!options.no_eos) {
    eos_id = tokenizer.eos_id();
    if (!eos_id)
      fail("prepare: tokenizer ", tokenizer.source_name(),
           " has no end-of-text token to separate documents; pass --no-eos to concatenate "
           "documents without one");
  }

  const std::vector<CorpusFile> files = list_corpus_files(options.inputs);
  if (files.empty())
    fail("prepare: no .txt, .md or .jsonl files found in the inputs (", options.inputs.size(),
         " paths given)");
  PrepareStats stats;
  stats.n_files = static_cast<int64_t>(files.size());
  uint64_t total_bytes = 0;
  for (const auto& file : files) total_bytes += file.n_bytes;

  prepare_output_dir(options.out_dir);
  stats.train_path = options.out_dir / "train.bin";
  stats.val_path = options.out_dir / "val.bin";
  const auto train = open_output(stats.train_path, tokenizer, eos_id);
  const auto val = open_output(stats.val_path, tokenizer, eos_id);

  const int n_threads = options.n_threads > 0 ? options.n_threads : hardware_thread_count();
  ThreadPool pool(n_threads);
  ProgressBar progress("prepare", total_bytes, options.progress);
  const size_t chunk_bytes = std::max<size_t>(1, options.chunk_bytes);
  const size_t round_bytes = chunk_bytes * static_cast<size_t>(n_threads);

  size_t file_index = 0;
  uint64_t finished_file_bytes = 0;  // bytes of files read to the end
  std::unique_ptr<DocumentReader> reader;
  std::vector<RawDocument> pending;
  while (true) {
    // Read one round of documents (serial: cheap next to encoding).
    size_t pending_bytes = 0;
    while (pending_bytes < round_bytes && file_index < files.size()) {
      if (!reader)
        reader = std::make_unique<DocumentReader>(
            files[file_index], static_cast<uint32_t>(file_index), options.separator, chunk_bytes);
      RawDocument document;
      if (!reader->next(document)) {
        finished_file_bytes += reader->bytes_consumed();
        reader.reset();
        ++file_index;
        continue;
      }
      pending_bytes += document.bytes.size();
      pending.push_back(std::move(document));
    }
    if (pending.empty()) break;
    const uint64_t bytes_read = finished_file_bytes + (reader ? reader->bytes_consumed() : 0);

    std::vector<Chunk> chunks = make_chunks(pending, pending_bytes, n_threads);
    pool.parallel_for(static_cast<int64_t>(chunks.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        encode_chunk(chunks[static_cast<size_t>(i)], files, tokenizer, options);
    });

    // Write in document order.
    for (Chunk& chunk : chunks) {
      size_t token_pos = 0;
      for (DocumentOutcome& outcome : chunk.outcomes) {
        if (outcome.status == DocumentStatus::empty) {
          ++stats.n_empty_documents;
          continue;
        }
        if (outcome.status == DocumentStatus::invalid_utf8) {
          if (!options.skip_invalid)
            fail(outcome.error, "; pass --skip-invalid to skip such documents");
          if (stats.n_skipped_invalid++ == 0) stats.first_skipped = outcome.error;
          continue;
        }
        TokenFileWriter& out = outcome.is_val ? *val : *train;
        out.append(std::span<const int32_t>(chunk.tokens.data() + token_pos, outcome.n_tokens));
        if (eos_id) out.append(*eos_id);
        token_pos += outcome.n_tokens;
        ++(outcome.is_val ? stats.n_val_documents : stats.n_train_documents);
      }
      if (chunk.failure) std::rethrow_exception(chunk.failure);
    }
    progress.update(bytes_read);
  }
  stats.n_bytes = finished_file_bytes;
  progress.update(stats.n_bytes);
  progress.finish();

  stats.n_train_tokens = train->n_tokens();
  stats.n_val_tokens = val->n_tokens();
  if (stats.n_documents() == 0)
    fail("prepare: the corpus is empty: no document with text in ", files.size(), " file(s) (",
         stats.n_bytes, " bytes; ", stats.n_empty_documents, " blank, ", stats.n_skipped_invalid,
         " skipped for invalid UTF-8)");
  if (stats.n_train_tokens < options.min_tokens)
    fail("prepare: the train split has only ", stats.n_train_tokens, " tokens (",
         stats.n_train_documents, " documents), fewer than --min-tokens ", options.min_tokens,
         " (one training window is context + 1 tokens); give more text or lower --min-tokens");
  train->commit();
  val->commit();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

std::string format_prepare_summary(const PrepareStats& stats) {
  const double rate = stats.seconds > 0 ? static_cast<double>(stats.n_bytes) / stats.seconds : 0;
  char seconds[32], megabytes_per_second[32];
  std::snprintf(seconds, sizeof(seconds), "%.2f", stats.seconds);
  std::snprintf(megabytes_per_second, sizeof(megabytes_per_second), "%.2f", rate / 1e6);
  std::string summary =
      concat("prepared ", stats.n_documents(), " documents (", stats.n_train_documents, " train, ",
             stats.n_val_documents, " val) from ", stats.n_files, " file(s), ",
             format_bytes(stats.n_bytes), " in ", seconds, " s (", megabytes_per_second, " MB/s)\n",
             "  ", stats.train_path.string(), ": ", stats.n_train_tokens, " tokens\n", "  ",
             stats.val_path.string(), ": ", stats.n_val_tokens, " tokens\n",
             "  skipped: ", stats.n_skipped_invalid, " invalid UTF-8, ", stats.n_empty_documents,
             " blank");
  if (!stats.first_skipped.empty()) summary += concat("\n  first skipped: ", stats.first_skipped);
  return summary;
}

}  // namespace bit_ttt::data
