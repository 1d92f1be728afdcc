#include "core/mmap_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "bit_ttt/error.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using namespace std::string_literals;

using testing::contains;
using testing::error_of;

TEST(MappedFile, MapsTheWholeFile) {
  testing::TempDir dir;
  const std::string content = "hello\0world"s;
  testing::write_file_bytes(dir / "a.bin", content);
  const auto file = MappedFile::open(dir / "a.bin");
  ASSERT_EQ(file->size(), content.size());
  EXPECT_EQ(std::memcmp(file->data(), content.data(), content.size()), 0);
  EXPECT_EQ(file->path(), dir / "a.bin");
}

TEST(MappedFile, EmptyFileIsValid) {
  testing::TempDir dir;
  testing::write_file_bytes(dir / "empty", "");
  const auto file = MappedFile::open(dir / "empty");
  EXPECT_EQ(file->size(), 0u);
  EXPECT_EQ(file->data(), nullptr);
}

TEST(MappedFile, MappingOutlivesTheFileName) {
  testing::TempDir dir;
  testing::write_file_bytes(dir / "gone", "still here");
  const auto file = MappedFile::open(dir / "gone");
  std::filesystem::remove(dir / "gone");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file->data()), file->size()), "still here");
}

TEST(MappedFile, MissingFileNamesPathAndReason) {
  testing::TempDir dir;
  const std::string message = error_of([&] { MappedFile::open(dir / "nope.bin"); });
  EXPECT_TRUE(contains(message, (dir / "nope.bin").string()));
  EXPECT_TRUE(contains(message, "No such file or directory"));
}

TEST(MappedFile, DirectoryIsRejected) {
  testing::TempDir dir;
  const std::string message = error_of([&] { MappedFile::open(dir.path()); });
  EXPECT_TRUE(contains(message, dir.path().string()));
  EXPECT_TRUE(contains(message, "is a directory"));
}

TEST(MappedFile, FifoIsRejectedWithoutBlocking) {
  testing::TempDir dir;
  const auto fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string message = error_of([&] { MappedFile::open(fifo); });
  EXPECT_TRUE(contains(message, fifo.string()));
  EXPECT_TRUE(contains(message, "not a regular file"));
}

TEST(MappedFile, PermissionDeniedNamesPathAndReason) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: file permissions are not enforced";
  testing::TempDir dir;
  testing::write_file_bytes(dir / "secret", "x");
  std::filesystem::permissions(dir / "secret", std::filesystem::perms::none);
  const std::string message = error_of([&] { MappedFile::open(dir / "secret"); });
  EXPECT_TRUE(contains(message, (dir / "secret").string()));
  EXPECT_TRUE(contains(message, "Permission denied"));
}

}  // namespace
}  // namespace bit_ttt
