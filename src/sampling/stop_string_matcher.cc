// StopStringMatcher: a stop string is only known to be absent once the text
// after a possible start of one rules it out, so that tail is held back.
#include <algorithm>
#include <string>
#include <utility>

#include "bit_ttt/error.h"
#include "bit_ttt/sampler.h"

namespace bit_ttt {

namespace {

// Length of the longest suffix of `text` that is a proper prefix of `stop`.
size_t held_prefix_length(std::string_view text, std::string_view stop) {
  const size_t longest = std::min(text.size(), stop.size() - 1);
  for (size_t length = longest; length > 0; --length) {
    if (text.substr(text.size() - length) == stop.substr(0, length)) return length;
  }
  return 0;
}

}  // namespace

StopStringMatcher::StopStringMatcher(std::vector<std::string> stop_strings)
    : stop_strings_(std::move(stop_strings)) {
  for (size_t i = 0; i < stop_strings_.size(); ++i) {
    // An empty stop string would match before any text and stop every generation.
    if (stop_strings_[i].empty()) fail("StopStringMatcher: stop_strings[", i, "] is empty");
  }
}

std::string StopStringMatcher::push(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);

  // The earliest match wins: text after it must not be emitted, even the
  // start of a different stop string that happens to complete first.
  size_t stop_at = std::string::npos;
  for (const std::string& stop : stop_strings_) stop_at = std::min(stop_at, pending_.find(stop));
  if (stop_at != std::string::npos) {
    stopped_ = true;
    std::string emitted = pending_.substr(0, stop_at);
    pending_.clear();
    return emitted;
  }

  size_t n_held = 0;
  for (const std::string& stop : stop_strings_) {
    n_held = std::max(n_held, held_prefix_length(pending_, stop));
  }
  std::string emitted = pending_.substr(0, pending_.size() - n_held);
  pending_.erase(0, pending_.size() - n_held);
  return emitted;
}

std::string StopStringMatcher::flush() {
  std::string rest;
  rest.swap(pending_);
  return stopped_ ? std::string() : rest;
}

}  // namespace bit_ttt
