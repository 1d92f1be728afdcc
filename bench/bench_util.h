// Small helpers shared by the benchmark programs.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace bit_ttt::bench {

// "1,2,4" -> {1, 2, 4}
inline std::vector<int> parse_int_list(const std::string& text) {
  std::vector<int> values;
  for (size_t pos = 0; pos < text.size();) {
    const size_t comma = text.find(',', pos);
    values.push_back(std::stoi(text.substr(pos, comma - pos)));
    pos = comma == std::string::npos ? text.size() : comma + 1;
  }
  return values;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace bit_ttt::bench
