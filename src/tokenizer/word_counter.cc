#include "tokenizer/word_counter.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <unordered_map>

#include "bit_ttt/error.h"
#include "core/thread_pool.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"
#include "tokenizer/word_counter_split.h"

namespace bit_ttt::tokenizer {
namespace {

// Looks words up by string_view so that counting a known word allocates nothing.
struct WordHash {
  using is_transparent = void;
  size_t operator()(std::string_view word) const { return std::hash<std::string_view>{}(word); }
};
using WordMap = std::unordered_map<std::string, int64_t, WordHash, std::equal_to<>>;

constexpr uint64_t kNoOffset = std::numeric_limits<uint64_t>::max();

struct Chunk {
  std::string text;
  uint64_t offset = 0;  // of text[0] in its source
};

// What one worker accumulates; each part is touched by one thread at a time.
struct Part {
  WordMap words;
  int64_t n_words = 0;
  int64_t n_special = 0;
  uint64_t first_invalid = kNoOffset;  // source offset of the first bad UTF-8 byte
  std::string error;                   // an exception caught in the worker
  std::vector<Match> ranges, matches, pieces;
};

class WordCounter {
 public:
  explicit WordCounter(const WordCountOptions& options)
      : splitter_(options.special_tokens),
        regex_(kGpt2PreTokenizerPattern, "the GPT-2 pre-tokenizer of BPE training"),
        pool_(options.n_threads > 0 ? options.n_threads : hardware_thread_count()),
        chunk_bytes_(std::max<size_t>(options.chunk_bytes, 1)),
        parts_(static_cast<size_t>(pool_.n_threads())) {}

  // Counts one text read through `read(buffer, capacity) -> bytes read`
  // (0 at the end); `on_progress(bytes)` after each batch.
  void add_stream(const std::function<size_t(char*, size_t)>& read, const std::string& name,
                  const std::function<void(uint64_t)>& on_progress) {
    std::string pending;  // text read but not yet cut off into a chunk
    uint64_t pending_offset = 0;
    std::vector<Chunk> batch;
    const size_t overlap = splitter_.max_token_size();
    bool at_end = false;
    while (!at_end) {
      const size_t searched = pending.size();
      pending.resize(searched + chunk_bytes_);
      const size_t n_read = read(pending.data() + searched, chunk_bytes_);
      pending.resize(searched + n_read);
      at_end = n_read == 0;
      size_t cut = pending.size();
      if (!at_end) {
        cut = last_safe_cut(pending, splitter_, searched > overlap ? searched - overlap : 0);
        if (cut == 0) continue;  // one long stretch without a cut: read on
      }
      if (cut > 0) {
        batch.push_back({pending.substr(0, cut), pending_offset});
        pending.erase(0, cut);
        pending_offset += cut;
      }
      if (batch.size() >= parts_.size() || (at_end && !batch.empty())) {
        count_batch(batch, name);
        batch.clear();
        on_progress(pending_offset);
      }
    }
  }

  WordCounts finish() {
    WordCounts counts;
    WordMap& all = parts_[0].words;
    for (size_t i = 0; i < parts_.size(); ++i) {
      counts.n_words += parts_[i].n_words;
      counts.n_special += parts_[i].n_special;
      if (i == 0) continue;
      for (auto& [word, count] : parts_[i].words) {
        const auto it = all.find(std::string_view(word));
        if (it == all.end()) {
          all.emplace(word, count);
        } else {
          it->second += count;
        }
      }
      parts_[i].words = WordMap();  // free as we go
    }
    counts.words.reserve(all.size());
    for (auto& [word, count] : all) counts.words.emplace_back(word, count);
    all = WordMap();
    std::sort(counts.words.begin(), counts.words.end());
    return counts;
  }

 private:
  void count_batch(const std::vector<Chunk>& batch, const std::string& name) {
    const auto n_parts = static_cast<int64_t>(parts_.size());
    pool_.parallel_for(n_parts, 1, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        Part& part = parts_[static_cast<size_t>(p)];
        // An exception must not escape a pool worker: keep it for the caller.
        try {
          for (size_t c = static_cast<size_t>(p); c < batch.size(); c += parts_.size())
            count_chunk(batch[c], part);
        } catch (const std::exception& error) {
          part.error = error.what();
        }
      }
    });
    uint64_t first_invalid = kNoOffset;
    for (Part& part : parts_) {
      if (!part.error.empty()) fail("counting words of ", name, ": ", part.error);
      first_invalid = std::min(first_invalid, part.first_invalid);
    }
    if (first_invalid != kNoOffset) {
      fail("BPE training input ", name, " is not valid UTF-8 (first bad byte at offset ",
           first_invalid, ")");
    }
  }

  void count_chunk(const Chunk& chunk, Part& part) const {
    const std::string_view text = chunk.text;
    const size_t invalid = find_invalid_utf8(text);
    if (invalid != std::string_view::npos) {
      part.first_invalid = std::min(part.first_invalid, chunk.offset + invalid);
      return;
    }
    part.n_special += static_cast<int64_t>(splitter_.plain_ranges(text, part.ranges));
    for (const Match& range : part.ranges) {
      const std::string_view plain = text.substr(range.begin, range.end - range.begin);
      regex_.find_all(plain, part.matches);
      part.pieces.clear();
      // Isolated keeps any text between matches as words too, like the encoder.
      split_by_matches(plain.size(), part.matches, SplitBehavior::kIsolated, false, part.pieces);
      for (const Match& piece : part.pieces) {
        const std::string_view word = plain.substr(piece.begin, piece.end - piece.begin);
        const auto it = part.words.find(word);
        if (it == part.words.end()) {
          part.words.emplace(word, 1);
        } else {
          ++it->second;
        }
        ++part.n_words;
      }
    }
  }

  SpecialTokenSplitter splitter_;
  Regex regex_;
  ThreadPool pool_;
  size_t chunk_bytes_;
  std::vector<Part> parts_;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

WordCounts count_words(const std::vector<std::filesystem::path>& files,
                       const WordCountOptions& options) {
  const Clock::time_point start = Clock::now();
  uint64_t total_bytes = 0;
  for (const std::filesystem::path& file : files) {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    if (!error) total_bytes += size;
  }
  WordCounter counter(options);
  ProgressBar bar("counting words", total_bytes, options.progress);
  uint64_t n_bytes_before = 0;
  for (const std::filesystem::path& file : files) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> stream(std::fopen(file.c_str(), "rb"),
                                                           &std::fclose);
    if (!stream) fail("cannot open BPE training input ", file.string(), ": ", std::strerror(errno));
    uint64_t n_file_bytes = 0;
    const auto read = [&](char* buffer, size_t capacity) {
      const size_t n = std::fread(buffer, 1, capacity, stream.get());
      if (n == 0 && std::ferror(stream.get())) {
        fail("cannot read BPE training input ", file.string(), ": ", std::strerror(errno));
      }
      n_file_bytes += n;
      return n;
    };
    counter.add_stream(read, file.string(),
                       [&](uint64_t done) { bar.update(n_bytes_before + done); });
    n_bytes_before += n_file_bytes;
  }
  bar.finish();
  WordCounts counts = counter.finish();
  counts.n_bytes = n_bytes_before;
  counts.seconds = seconds_since(start);
  return counts;
}

WordCounts count_words_in_text(std::string_view text, const WordCountOptions& options) {
  const Clock::time_point start = Clock::now();
  WordCounter counter(options);
  size_t pos = 0;
  const auto read = [&](char* buffer, size_t capacity) {
    const size_t n = std::min(capacity, text.size() - pos);
    std::memcpy(buffer, text.data() + pos, n);
    pos += n;
    return n;
  };
  counter.add_stream(read, "text", [](uint64_t) {});
  WordCounts counts = counter.finish();
  counts.n_bytes = text.size();
  counts.seconds = seconds_since(start);
  return counts;
}

}  // namespace bit_ttt::tokenizer
