// Helpers shared by the test files: where ../shared/data is, temp dirs, file I/O.
#pragma once

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "bit_ttt/error.h"

namespace bit_ttt::testing {

// ../shared/data next to the repository (empty path when absent).
std::filesystem::path shared_data_dir();

// Skips the current test with a message when a shared data file is missing.
#define BT_REQUIRE_SHARED(relative_path, out_path_var)                                         \
  const std::filesystem::path out_path_var =                                                   \
      ::bit_ttt::testing::shared_data_dir() / (relative_path);                                 \
  if (::bit_ttt::testing::shared_data_dir().empty() || !std::filesystem::exists(out_path_var)) \
    GTEST_SKIP() << "shared data file not found: " << (relative_path)                          \
                 << " (expected under ../shared/data)";

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::string read_file_bytes(const std::filesystem::path& path);
// Sorted names in `dir` (to prove no temp file was left behind).
std::vector<std::string> list_dir(const std::filesystem::path& dir);
// n bytes from a fixed-seed generator.
std::vector<std::byte> random_bytes(size_t n, uint32_t seed);

template <typename T>
std::span<const std::byte> as_bytes_of(const std::vector<T>& values) {
  return std::as_bytes(std::span<const T>(values));
}

// Lowers RLIMIT_FSIZE for its lifetime so the kernel fails write() with EFBIG
// partway through: a real mid-write I/O error without root or a special
// filesystem (SIGXFSZ is ignored meanwhile; its default action would kill us).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t n_bytes);
  ~FileSizeLimit();
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*saved_handler_)(int) = nullptr;
};
void write_file_bytes(const std::filesystem::path& path, const std::string& bytes);

// Path of a program built next to the tests (build/bin/NAME).
std::filesystem::path built_program(const std::string& name);

// gtest predicate: EXPECT_TRUE(contains(message, "part")) prints both on failure.
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// The message of the bit_ttt::Error that `body` throws ("" when it throws none).
template <typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const ::bit_ttt::Error& error) {
    return error.what();
  }
  return "";
}

// Expects `body` to throw bit_ttt::Error whose message contains every fragment.
template <typename Body>
void expect_error(Body body, std::initializer_list<std::string> fragments) {
  try {
    body();
    ADD_FAILURE() << "expected a bit_ttt::Error";
  } catch (const ::bit_ttt::Error& error) {
    const std::string message = error.what();
    for (const auto& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message '" << message << "' lacks '" << fragment << "'";
  }
}

}  // namespace bit_ttt::testing
