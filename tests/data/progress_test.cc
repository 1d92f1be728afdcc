#include "core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

namespace bit_ttt::testing {
namespace {

std::string contents(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buffer[256];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
  return text;
}

using FilePtr = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

TEST(Progress, Formatting) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(1500), "1.50 KB");
  EXPECT_EQ(format_bytes(2380000), "2.38 MB");
  EXPECT_EQ(format_bytes(4400000000ull), "4.40 GB");
  EXPECT_EQ(format_duration(7.4), "0:07");
  EXPECT_EQ(format_duration(62), "1:02");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "--:--");
  EXPECT_EQ(format_progress(1000000, 4000000, 2.0),
            "1.00 MB / 4.00 MB  25.0%  0.50 MB/s  ETA 0:06");
  EXPECT_EQ(format_progress(0, 4000000, 0.0), "0 B / 4.00 MB  0.0%  0.00 MB/s  ETA --:--");
  EXPECT_EQ(format_progress(0, 0, 1.0), "0 B / 0 B  100.0%  0.00 MB/s  ETA 0:00");
}

TEST(Progress, LinesStylePrintsPlainLines) {
  FilePtr file(std::tmpfile(), &std::fclose);
  ASSERT_TRUE(file);
  {
    ProgressBar bar("job", 100, ProgressBar::Style::lines, file.get());
    bar.set_min_interval(0);
    bar.update(10);
    bar.update(50);
    bar.update(70);
    bar.finish();
    bar.update(80);  // after finish: ignored
  }
  const std::string text = contents(file.get());
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_EQ(text.find("80 B"), std::string::npos) << text;
  EXPECT_NE(text.find("job: 10 B / 100 B  10.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("job: 50 B / 100 B  50.0%"), std::string::npos) << text;
}

TEST(Progress, RedrawsAreThrottled) {
  FilePtr file(std::tmpfile(), &std::fclose);
  ProgressBar bar("job", 100, ProgressBar::Style::lines, file.get());
  bar.set_min_interval(3600);
  for (int i = 0; i <= 100; ++i) bar.update(static_cast<uint64_t>(i));
  bar.finish();
  const std::string text = contents(file.get());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;  // first draw + final
  EXPECT_NE(text.find("100 B / 100 B  100.0%"), std::string::npos) << text;
}

TEST(Progress, LinesStyleDoesNotRepeatTheLastLine) {
  FilePtr file(std::tmpfile(), &std::fclose);
  ProgressBar bar("job", 100, ProgressBar::Style::lines, file.get());
  bar.update(100);
  bar.finish();
  const std::string text = contents(file.get());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

TEST(Progress, BarStyleRedrawsOneLine) {
  FilePtr file(std::tmpfile(), &std::fclose);
  {
    ProgressBar bar("prepare", 200, ProgressBar::Style::bar, file.get());
    bar.set_min_interval(0);
    bar.update(100);
    bar.update(150);
  }  // unfinished: the destructor ends the line
  const std::string text = contents(file.get());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 2) << text;
  EXPECT_NE(text.find("prepare [===============>"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, NoneStylePrintsNothing) {
  FilePtr file(std::tmpfile(), &std::fclose);
  {
    ProgressBar bar("job", 100, ProgressBar::Style::none, file.get());
    bar.update(50);
    bar.finish();
  }
  EXPECT_EQ(contents(file.get()), "");
}

TEST(Progress, AutomaticStyleUsesLinesForAFile) {
  FilePtr file(std::tmpfile(), &std::fclose);
  ProgressBar bar("job", 1, ProgressBar::Style::automatic, file.get());
  EXPECT_EQ(bar.style(), ProgressBar::Style::lines);
}

}  // namespace
}  // namespace bit_ttt::testing
