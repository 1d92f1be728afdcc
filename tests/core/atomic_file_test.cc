#include "core/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bit_ttt/error.h"
#include "test_util.h"

namespace bit_ttt {
namespace {

using testing::contains;
using testing::error_of;
using testing::FileSizeLimit;
using testing::list_dir;

TEST(AtomicFile, WritesAndReplaces) {
  testing::TempDir dir;
  write_file_atomically(dir / "out.txt", "first");
  EXPECT_EQ(testing::read_file_bytes(dir / "out.txt"), "first");
  write_file_atomically(dir / "out.txt", std::string(100000, 'x'));
  EXPECT_EQ(testing::read_file_bytes(dir / "out.txt"), std::string(100000, 'x'));
  write_file_atomically(dir / "out.txt", "");
  EXPECT_EQ(testing::read_file_bytes(dir / "out.txt"), "");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFile, NewFileGetsUmaskPermissions) {
  testing::TempDir dir;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  write_file_atomically(dir / "p", "x");
  struct stat info {};
  ASSERT_EQ(::stat((dir / "p").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0666 & ~mask);
}

TEST(AtomicFile, RelativePathUsesCurrentDirectory) {
  testing::TempDir dir;
  const auto saved = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  write_file_atomically("relative.txt", "rel");
  std::filesystem::current_path(saved);
  EXPECT_EQ(testing::read_file_bytes(dir / "relative.txt"), "rel");
}

TEST(AtomicFile, WriterWithoutCommitLeavesOldFileAndNoTemp) {
  testing::TempDir dir;
  testing::write_file_bytes(dir / "model.bin", "OLD");
  {
    AtomicFileWriter writer(dir / "model.bin");
    writer.write("NEW CONTENT", 11);
    EXPECT_TRUE(std::filesystem::exists(writer.temp_path()));
    EXPECT_EQ(writer.temp_path().parent_path(), dir.path());  // same filesystem as the target
    EXPECT_EQ(testing::read_file_bytes(dir / "model.bin"), "OLD");
  }
  EXPECT_EQ(testing::read_file_bytes(dir / "model.bin"), "OLD");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"model.bin"});
}

TEST(AtomicFile, WriterThrowingMidwayLeavesNoTemp) {
  testing::TempDir dir;
  testing::write_file_bytes(dir / "model.bin", "OLD");
  try {
    AtomicFileWriter writer(dir / "model.bin");
    writer.write("partial", 7);
    throw std::runtime_error("producer failed");  // e.g. a tensor failed to serialise
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(testing::read_file_bytes(dir / "model.bin"), "OLD");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"model.bin"});
}

TEST(AtomicFile, FailedWriteKeepsOldFileRemovesTempAndNamesError) {
  testing::TempDir dir;
  const auto target = dir / "weights.bin";
  testing::write_file_bytes(target, "OLD CONTENT");
  std::string message;
  {
    AtomicFileWriter writer(target);
    writer.write(std::string(4096, 'a').data(), 4096);
    {
      const FileSizeLimit limit(6000);
      const std::string big(8192, 'b');
      message = error_of([&] { writer.write(big.data(), big.size()); });
    }
    EXPECT_FALSE(std::filesystem::exists(writer.temp_path()));
    // The writer is dead after a failure.
    EXPECT_TRUE(contains(error_of([&] { writer.write("x", 1); }), "after a failure"));
    EXPECT_TRUE(contains(error_of([&] { writer.commit(); }), "after a failure"));
  }
  EXPECT_TRUE(contains(message, target.string()));
  EXPECT_TRUE(contains(message, std::strerror(EFBIG)));
  EXPECT_TRUE(contains(message, "after 6000 bytes"));
  EXPECT_EQ(testing::read_file_bytes(target), "OLD CONTENT");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"weights.bin"});
}

// A real ENOSPC needs a small filesystem; mounting tmpfs works when we are root
// with CAP_SYS_ADMIN (not in most containers), so the test skips otherwise.
TEST(AtomicFile, NoSpaceKeepsOldFile) {
  testing::TempDir dir;
  const auto mount_point = dir / "tiny";
  std::filesystem::create_directory(mount_point);
  if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a 64k tmpfs to simulate ENOSPC: " << std::strerror(errno);
  }
  struct Unmount {
    std::filesystem::path path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mount_point};
  const auto target = mount_point / "out.bin";
  write_file_atomically(target, "OLD");
  const std::string big(1 << 20, 'z');
  const std::string message = error_of([&] { write_file_atomically(target, big); });
  EXPECT_TRUE(contains(message, target.string()));
  EXPECT_TRUE(contains(message, std::strerror(ENOSPC)));
  EXPECT_EQ(testing::read_file_bytes(target), "OLD");
  EXPECT_EQ(list_dir(mount_point), std::vector<std::string>{"out.bin"});
}

TEST(AtomicFile, MissingDirectoryNamesPathAndReason) {
  testing::TempDir dir;
  const auto target = dir / "no_such_dir" / "out.bin";
  const std::string message = error_of([&] { write_file_atomically(target, "x"); });
  EXPECT_TRUE(contains(message, target.string()));
  EXPECT_TRUE(contains(message, std::strerror(ENOENT)));
}

TEST(AtomicFile, TargetThatIsADirectoryFailsAtRenameAndCleansUp) {
  testing::TempDir dir;
  std::filesystem::create_directory(dir / "occupied");
  const std::string message = error_of([&] { write_file_atomically(dir / "occupied", "x"); });
  EXPECT_TRUE(contains(message, (dir / "occupied").string()));
  EXPECT_TRUE(contains(message, "rename failed"));
  EXPECT_TRUE(std::filesystem::is_directory(dir / "occupied"));
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"occupied"});
}

TEST(AtomicFile, UseAfterCommitIsAnError) {
  testing::TempDir dir;
  AtomicFileWriter writer(dir / "f");
  writer.write("abc", 3);
  writer.commit();
  EXPECT_EQ(writer.n_bytes_written(), 3u);
  EXPECT_TRUE(contains(error_of([&] { writer.write("x", 1); }), "after commit"));
  EXPECT_TRUE(contains(error_of([&] { writer.commit(); }), "after commit"));
  EXPECT_EQ(testing::read_file_bytes(dir / "f"), "abc");
}

// Readers racing with writers only ever see one complete version.
TEST(AtomicFile, ConcurrentWritersNeverTearTheFile) {
  testing::TempDir dir;
  const auto target = dir / "shared.bin";
  constexpr int kWriters = 3;
  constexpr size_t kSize = 1 << 16;
  write_file_atomically(target, std::string(kSize, 'A'));
  std::atomic<bool> done{false};
  std::atomic<int> n_torn{0};
  std::thread reader([&] {
    while (!done) {
      const std::string content = testing::read_file_bytes(target);
      if (content.size() != kSize || content.find_first_not_of(content[0]) != std::string::npos) {
        ++n_torn;
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const std::string content(kSize, static_cast<char>('B' + w));
      for (int i = 0; i < 20; ++i) write_file_atomically(target, content);
    });
  }
  for (std::thread& writer : writers) writer.join();
  done = true;
  reader.join();
  EXPECT_EQ(n_torn.load(), 0);
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"shared.bin"});
}

}  // namespace
}  // namespace bit_ttt
