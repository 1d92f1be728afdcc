#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "bit_ttt/error.h"

namespace bit_ttt {
namespace {

constexpr int kBarWidth = 30;

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

}  // namespace

std::string format_bytes(uint64_t n_bytes) {
  const double value = static_cast<double>(n_bytes);
  if (n_bytes < 1000) return concat(n_bytes, " B");
  if (value < 1e6) return fixed(value / 1e3, 2) + " KB";
  if (value < 1e9) return fixed(value / 1e6, 2) + " MB";
  return fixed(value / 1e9, 2) + " GB";
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto total = static_cast<uint64_t>(std::llround(seconds));
  const uint64_t hours = total / 3600, minutes = total / 60 % 60, secs = total % 60;
  char buffer[64];
  if (hours > 0) {
    std::snprintf(buffer, sizeof(buffer), "%llu:%02llu:%02llu",
                  static_cast<unsigned long long>(hours), static_cast<unsigned long long>(minutes),
                  static_cast<unsigned long long>(secs));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%llu:%02llu", static_cast<unsigned long long>(minutes),
                  static_cast<unsigned long long>(secs));
  }
  return buffer;
}

std::string format_progress(uint64_t done, uint64_t total, double elapsed_seconds) {
  const double fraction = total == 0 ? 1.0 : std::min(1.0, double(done) / double(total));
  const double rate = elapsed_seconds > 0 ? double(done) / elapsed_seconds : 0.0;
  const uint64_t remaining = total > done ? total - done : 0;
  const double eta = remaining == 0 ? 0.0 : rate > 0 ? double(remaining) / rate : -1.0;
  return concat(format_bytes(done), " / ", format_bytes(total), "  ", fixed(100 * fraction, 1),
                "%  ", fixed(rate / 1e6, 2), " MB/s  ETA ", format_duration(eta));
}

ProgressBar::ProgressBar(std::string label, uint64_t total_bytes, Style style, std::FILE* out)
    : label_(std::move(label)), total_(total_bytes), style_(style), out_(out) {
  if (style_ == Style::automatic) style_ = ::isatty(::fileno(out_)) ? Style::bar : Style::lines;
  min_interval_ = style_ == Style::bar ? 0.1 : 5.0;
  start_ = last_draw_ = Clock::now();
}

ProgressBar::~ProgressBar() {
  if (style_ == Style::bar && drawn_ && !finished_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

void ProgressBar::update(uint64_t done_bytes) {
  done_ = done_bytes;
  if (style_ == Style::none || finished_) return;
  const Clock::time_point now = Clock::now();
  if (drawn_ && std::chrono::duration<double>(now - last_draw_).count() < min_interval_) return;
  last_draw_ = now;
  draw(false);
}

void ProgressBar::finish() {
  if (finished_) return;
  // A plain line for a state already printed would only repeat it.
  const bool repeat = style_ == Style::lines && drawn_ && drawn_done_ == done_;
  if (style_ != Style::none && !repeat) draw(true);
  finished_ = true;
}

void ProgressBar::draw(bool final) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const std::string status = format_progress(done_, total_, elapsed);
  if (style_ == Style::bar) {
    const double fraction = total_ == 0 ? 1.0 : std::min(1.0, double(done_) / double(total_));
    const int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kBarWidth) bar += '>';
    bar.resize(kBarWidth, ' ');
    // \r + clear-to-end-of-line: rewrite the same line in place.
    std::fprintf(out_, "\r%s [%s] %s\x1b[K%s", label_.c_str(), bar.c_str(), status.c_str(),
                 final ? "\n" : "");
  } else {
    std::fprintf(out_, "%s: %s\n", label_.c_str(), status.c_str());
  }
  std::fflush(out_);
  drawn_ = true;
  drawn_done_ = done_;
}

}  // namespace bit_ttt
