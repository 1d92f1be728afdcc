// Checks of a tensor-file header shared by the safetensors and .bitt readers.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bit_ttt {

// A JSON object of strings → map; "FILE: WHAT must be an object of strings, got T"
// or "FILE: WHAT value of 'K' must be a string, got T" otherwise.
std::map<std::string, std::string> parse_string_map(const std::string& file,
                                                    const nlohmann::json& value,
                                                    std::string_view what);

// Bytes [begin, end) of the data section that a tensor occupies.
struct NamedByteRange {
  std::string_view name;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Fails "FILE: tensors 'A' [b, e) and 'B' [b, e) overlap" for the first overlap in
// offset order (ties keep the order given). Empty tensors occupy no bytes, so
// they cannot overlap anything.
void check_no_overlap(const std::string& file, std::vector<NamedByteRange> ranges);

}  // namespace bit_ttt
