// Error reporting of the public API: every recoverable problem (bad file, bad
// flag, bad request) is a bit_ttt::Error whose message says what and where.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace bit_ttt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from any streamable parts: fail("file ", path, ": bad header").
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(concat(std::forward<Parts>(parts)...));
}

}  // namespace bit_ttt
