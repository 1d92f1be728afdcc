#include "tokenizer/bpe_trainer_merges.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bit_ttt/error.h"

namespace bit_ttt::tokenizer {

int32_t BpeVocab::add(const std::string& key_text, const std::string& raw) {
  const auto [it, inserted] = id_of_key.emplace(key_text, size());
  if (inserted) {
    key.push_back(key_text);
    bytes.push_back(raw);
  }
  return it->second;
}

namespace {

// "merges 1234 / 16000  51234 merges/s  ETA 0:03" on stderr: redrawn in place on a
// terminal, a plain line every few seconds otherwise (like ProgressBar, whose
// byte units do not fit a count of merges).
class MergeProgress {
 public:
  MergeProgress(int64_t total, ProgressBar::Style style) : total_(total), style_(style) {
    if (style_ == ProgressBar::Style::automatic)
      style_ = ::isatty(::fileno(stderr)) ? ProgressBar::Style::bar : ProgressBar::Style::lines;
    min_interval_ = style_ == ProgressBar::Style::bar ? 0.1 : 5.0;
    start_ = last_draw_ = Clock::now();
  }
  ~MergeProgress() {
    if (style_ == ProgressBar::Style::bar && drawn_ && !finished_) std::fputc('\n', stderr);
  }
  MergeProgress(const MergeProgress&) = delete;
  MergeProgress& operator=(const MergeProgress&) = delete;

  void update(int64_t done) {
    if (style_ == ProgressBar::Style::none) return;
    const Clock::time_point now = Clock::now();
    if (std::chrono::duration<double>(now - last_draw_).count() < min_interval_) return;
    last_draw_ = now;
    draw(done, false);
  }
  void finish(int64_t done) {
    if (style_ == ProgressBar::Style::none || finished_) return;
    draw(done, true);
    finished_ = true;
  }

 private:
  using Clock = std::chrono::steady_clock;
  void draw(int64_t done, bool final) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
    const double eta = final ? 0.0 : rate > 0 ? double(total_ - done) / rate : -1.0;
    const std::string line =
        concat("merges ", done, " / ", total_, "  ", static_cast<int64_t>(rate), " merges/s  ",
               final ? "in " : "ETA ", format_duration(final ? elapsed : eta));
    if (style_ == ProgressBar::Style::bar) {
      std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
    drawn_ = true;
  }

  int64_t total_;
  ProgressBar::Style style_;
  double min_interval_;
  Clock::time_point start_, last_draw_;
  bool drawn_ = false;
  bool finished_ = false;
};

// Pair key -> pair index: open addressing with linear probing, because this
// lookup is the inner loop of every merge and std::unordered_map's node
// chasing made it the top of the profile.
class PairIndex {
 public:
  PairIndex() { slots_.assign(size_t(1) << (64 - shift_), Slot{kEmpty, 0}); }

  // The index stored for `key`, or `fresh` (then stored) if there was none.
  std::pair<int32_t, bool> find_or_add(uint64_t key, int32_t fresh) {
    if (2 * (n_used_ + 1) > slots_.size()) grow();
    size_t i = slot_of(key);
    while (slots_[i].key != kEmpty) {
      if (slots_[i].key == key) return {slots_[i].value, false};
      i = (i + 1) & (slots_.size() - 1);
    }
    slots_[i] = {key, fresh};
    ++n_used_;
    return {fresh, true};
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);  // ids are < 2^31: never a key
  struct Slot {
    uint64_t key;
    int32_t value;
  };
  // Fibonacci hashing: the top bits of key * 2^64/phi mix both ids.
  size_t slot_of(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2, Slot{kEmpty, 0});
    old.swap(slots_);
    --shift_;
    for (const Slot& slot : old) {
      if (slot.key == kEmpty) continue;
      size_t i = slot_of(slot.key);
      while (slots_[i].key != kEmpty) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = slot;
    }
  }
  std::vector<Slot> slots_;
  size_t n_used_ = 0;
  int shift_ = 64 - 10;  // 64 - log2(slots_.size())
};

struct PairStats {
  int32_t left = 0;
  int32_t right = 0;
  int64_t count = 0;
  // Every word that gained the pair at some point; may repeat, and may name
  // words that lost it since (they are skipped when the pair is merged).
  std::vector<int32_t> words;
  int64_t touched_step = -1;  // the last merge step that raised the count
};

// A queued pair with its count when queued; stale when the count has changed.
struct QueueEntry {
  int64_t count;
  int32_t pair;
};

class MergeLearner {
 public:
  MergeLearner(const std::vector<std::pair<std::string, int64_t>>& words, BpeVocab& vocab)
      : vocab_(vocab) {
    size_t n_symbols = 0;
    for (const auto& [word, count] : words) n_symbols += word.size();
    symbols_.reserve(n_symbols);
    begin_.reserve(words.size());
    size_.reserve(words.size());
    count_.reserve(words.size());
    for (const auto& [word, count] : words) {
      if (word.size() > UINT32_MAX) fail("BPE training: a word of ", word.size(), " bytes");
      begin_.push_back(symbols_.size());
      size_.push_back(static_cast<uint32_t>(word.size()));
      count_.push_back(count);
      for (const char c : word) symbols_.push_back(vocab_.byte_id[static_cast<unsigned char>(c)]);
    }
    word_seen_step_.assign(words.size(), -1);
    for (size_t w = 0; w < begin_.size(); ++w) {
      const int32_t* s = symbols_.data() + begin_[w];
      for (uint32_t i = 0; i + 1 < size_[w]; ++i)
        change_pair(s[i], s[i + 1], count_[w], static_cast<int32_t>(w));
    }
    queue_.reserve(pairs_.size());
    for (size_t p = 0; p < pairs_.size(); ++p) {
      if (pairs_[p].count > 0) queue_.push_back({pairs_[p].count, static_cast<int32_t>(p)});
    }
    std::make_heap(queue_.begin(), queue_.end(), Before{this});
    touched_.clear();
  }

  std::vector<std::pair<int32_t, int32_t>> run(const MergeOptions& options) {
    std::vector<std::pair<int32_t, int32_t>> merges;
    const int64_t min_count = std::max<int64_t>(options.min_frequency, 1);
    MergeProgress progress(std::max<int64_t>(options.vocab_size - vocab_.size(), 0),
                           options.progress);
    while (vocab_.size() < options.vocab_size) {
      QueueEntry best{};
      if (!pop_best(best) || best.count < min_count) break;
      PairStats& stats = pairs_[static_cast<size_t>(best.pair)];
      const int32_t left = stats.left;
      const int32_t right = stats.right;
      const size_t l = static_cast<size_t>(left), r = static_cast<size_t>(right);
      const int32_t merged =
          vocab_.add(vocab_.key[l] + vocab_.key[r], vocab_.bytes[l] + vocab_.bytes[r]);
      merges.emplace_back(left, right);
      ++step_;
      const std::vector<int32_t> words = std::move(stats.words);
      for (const int32_t w : words) {
        int64_t& seen = word_seen_step_[static_cast<size_t>(w)];
        if (seen == step_) continue;
        seen = step_;
        merge_word(w, left, right, merged);
      }
      // Every occurrence is merged now (pairs_ may have grown: no `stats`).
      pairs_[static_cast<size_t>(best.pair)].count = 0;
      pairs_[static_cast<size_t>(best.pair)].words = {};
      for (const int32_t p : touched_) {
        if (pairs_[static_cast<size_t>(p)].count > 0) push(p);
      }
      touched_.clear();
      progress.update(static_cast<int64_t>(merges.size()));
    }
    progress.finish(static_cast<int64_t>(merges.size()));
    return merges;
  }

 private:
  // Heap order: fewer occurrences first, then the lexicographically smaller
  // (left bytes, right bytes), so the top is the pair to merge next.
  struct Before {
    const MergeLearner* learner;
    bool operator()(const QueueEntry& a, const QueueEntry& b) const {
      if (a.count != b.count) return a.count < b.count;
      const PairStats& pa = learner->pairs_[static_cast<size_t>(a.pair)];
      const PairStats& pb = learner->pairs_[static_cast<size_t>(b.pair)];
      const auto& bytes = learner->vocab_.bytes;
      const int left =
          bytes[static_cast<size_t>(pa.left)].compare(bytes[static_cast<size_t>(pb.left)]);
      if (left != 0) return left < 0;
      return bytes[static_cast<size_t>(pa.right)] < bytes[static_cast<size_t>(pb.right)];
    }
  };

  void push(int32_t pair) {
    queue_.push_back({pairs_[static_cast<size_t>(pair)].count, pair});
    std::push_heap(queue_.begin(), queue_.end(), Before{this});
  }

  // The pair to merge next. Every pair with a positive count has an entry
  // whose queued count is at least its count (raising a count queues a new
  // entry), so an entry whose count is still current is the true best.
  bool pop_best(QueueEntry& best) {
    while (!queue_.empty()) {
      std::pop_heap(queue_.begin(), queue_.end(), Before{this});
      QueueEntry entry = queue_.back();
      queue_.pop_back();
      const int64_t count = pairs_[static_cast<size_t>(entry.pair)].count;
      if (count == entry.count) {
        best = entry;
        return true;
      }
      // Lowered since queued: queue again with the current count. Raised
      // since queued: a newer entry already holds it. Zero: merged or gone.
      if (count > 0 && count < entry.count) push(entry.pair);
    }
    return false;
  }

  void change_pair(int32_t left, int32_t right, int64_t delta, int32_t word) {
    const uint64_t key = (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
    const auto [index, inserted] = pair_ids_.find_or_add(key, static_cast<int32_t>(pairs_.size()));
    if (inserted) {
      PairStats& added = pairs_.emplace_back();
      added.left = left;
      added.right = right;
    }
    PairStats& stats = pairs_[static_cast<size_t>(index)];
    stats.count += delta;
    if (delta > 0) {
      if (stats.words.empty() || stats.words.back() != word) stats.words.push_back(word);
      if (stats.touched_step != step_) {
        stats.touched_step = step_;
        touched_.push_back(index);
      }
    }
  }

  // Replaces each non-overlapping (left, right), left to right, by `merged`
  // and moves the counts of the neighbouring pairs. Sequential updates give
  // the right net change for runs like "a b a b" and "a a a".
  void merge_word(int32_t word, int32_t left, int32_t right, int32_t merged) {
    const size_t w = static_cast<size_t>(word);
    int32_t* s = symbols_.data() + begin_[w];
    const size_t n = size_[w];
    const int64_t count = count_[w];
    size_t out = 0;
    size_t i = 0;
    while (i < n) {
      if (i + 1 < n && s[i] == left && s[i + 1] == right) {
        if (out > 0) {
          change_pair(s[out - 1], left, -count, word);
          change_pair(s[out - 1], merged, count, word);
        }
        if (i + 2 < n) {
          change_pair(right, s[i + 2], -count, word);
          change_pair(merged, s[i + 2], count, word);
        }
        s[out++] = merged;
        i += 2;
      } else {
        s[out++] = s[i++];
      }
    }
    size_[w] = static_cast<uint32_t>(out);
  }

  BpeVocab& vocab_;
  // Word w is symbols_[begin_[w], begin_[w] + size_[w]), shrinking in place.
  std::vector<int32_t> symbols_;
  std::vector<size_t> begin_;
  std::vector<uint32_t> size_;
  std::vector<int64_t> count_;
  std::vector<int64_t> word_seen_step_;  // dedups a pair's word list per step
  PairIndex pair_ids_;
  std::vector<PairStats> pairs_;
  std::vector<QueueEntry> queue_;
  std::vector<int32_t> touched_;  // pairs whose count rose in this step
  int64_t step_ = 0;
};

}  // namespace

std::vector<std::pair<int32_t, int32_t>> learn_merges(
    const std::vector<std::pair<std::string, int64_t>>& words, BpeVocab& vocab,
    const MergeOptions& options) {
  MergeLearner learner(words, vocab);
  return learner.run(options);
}

}  // namespace bit_ttt::tokenizer
