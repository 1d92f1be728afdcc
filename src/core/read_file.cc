#include "core/read_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "bit_ttt/error.h"

namespace bit_ttt {

std::string read_file_to_string(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) fail(path.string(), ": is a directory, expected a file");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) fail(path.string(), ": cannot open: ", std::strerror(errno));
  std::string bytes;
  char buffer[1 << 16];
  size_t n_read;
  while ((n_read = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) bytes.append(buffer, n_read);
  if (std::ferror(file.get())) fail(path.string(), ": read error: ", std::strerror(errno));
  return bytes;
}

}  // namespace bit_ttt
