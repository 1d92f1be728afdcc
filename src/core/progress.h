// A byte-based progress bar on stderr for long jobs (prepare, training data
// passes): done/total, rate in MB/s and ETA. On a terminal it redraws one line
// in place at most ~10 times a second; when the stream is a file or pipe (CI
// logs) it prints a plain line every few seconds instead of a flood of '\r'.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace bit_ttt {

// "1.50 MB", "2.38 GB", "512 B" (decimal units, like the MB/s rate).
std::string format_bytes(uint64_t n_bytes);
// "0:07", "1:02:03"; "--:--" for an unknown (negative or non-finite) time.
std::string format_duration(double seconds);
// One status line without the bar: "1.20/2.38 MB  50.4%  3.1 MB/s  ETA 0:12".
std::string format_progress(uint64_t done, uint64_t total, double elapsed_seconds);

class ProgressBar {
 public:
  enum class Style {
    automatic,  // bar on a terminal, lines otherwise
    bar,
    lines,
    none,
  };

  ProgressBar(std::string label, uint64_t total_bytes, Style style = Style::automatic,
              std::FILE* out = stderr);
  // An unfinished bar ends its line so that a following error starts clean.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Cheap when no redraw is due; call as often as convenient.
  void update(uint64_t done_bytes);
  // Draws the final state and ends the line.
  void finish();
  // Minimum time between two draws (default 0.1 s for the bar, 5 s for lines).
  void set_min_interval(double seconds) { min_interval_ = seconds; }
  Style style() const { return style_; }

 private:
  using Clock = std::chrono::steady_clock;
  void draw(bool final);

  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  Style style_;
  std::FILE* out_;
  Clock::time_point start_;
  Clock::time_point last_draw_;
  double min_interval_;
  uint64_t drawn_done_ = 0;  // done_ at the last draw
  bool drawn_ = false;
  bool finished_ = false;
};

}  // namespace bit_ttt
