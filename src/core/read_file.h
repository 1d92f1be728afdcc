#pragma once

#include <filesystem>
#include <string>

namespace bit_ttt {

// The whole file as bytes; a clear error naming the path when it cannot be read.
std::string read_file_to_string(const std::filesystem::path& path);

}  // namespace bit_ttt
