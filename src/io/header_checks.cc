#include "io/header_checks.h"

#include <algorithm>

#include "bit_ttt/error.h"

namespace bit_ttt {

std::map<std::string, std::string> parse_string_map(const std::string& file,
                                                    const nlohmann::json& value,
                                                    std::string_view what) {
  if (!value.is_object()) {
    fail(file, ": ", what, " must be an object of strings, got ", value.type_name());
  }
  std::map<std::string, std::string> result;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(file, ": ", what, " value of '", key, "' must be a string, got ", item.type_name());
    }
    result.emplace(key, item.get<std::string>());
  }
  return result;
}

void check_no_overlap(const std::string& file, std::vector<NamedByteRange> ranges) {
  std::stable_sort(
      ranges.begin(), ranges.end(),
      [](const NamedByteRange& a, const NamedByteRange& b) { return a.begin < b.begin; });
  const NamedByteRange* previous = nullptr;  // the non-empty range reaching furthest so far
  for (const NamedByteRange& range : ranges) {
    if (range.begin == range.end) continue;
    if (previous != nullptr && range.begin < previous->end) {
      fail(file, ": tensors '", previous->name, "' [", previous->begin, ", ", previous->end,
           ") and '", range.name, "' [", range.begin, ", ", range.end, ") overlap");
    }
    if (previous == nullptr || range.end > previous->end) previous = &range;
  }
}

}  // namespace bit_ttt
