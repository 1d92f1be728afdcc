// Memory-side helpers shared by the kernel benchmarks: measured bandwidths (the
// roofline), weight copies that force reads from DRAM, and best-of-N timing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/thread_pool.h"
#include "kernels/cpu/isa.h"
#include "kernels/ref/ternary_packed_ref.h"  // AlignedBytes

namespace bit_ttt::bench {

inline constexpr size_t kColdBytes = size_t{192} << 20;

inline double measure_memcpy_gb_per_s() {
  const size_t n_bytes = 256u << 20;
  std::vector<char> source(n_bytes, 1), destination(n_bytes, 0);
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    std::memcpy(destination.data(), source.data(), n_bytes);
    best = std::max(best, 2.0 * n_bytes / seconds_since(start) / 1e9);
  }
  if (destination[n_bytes / 2] != 1) std::abort();
  return best;
}

// Read-only bandwidth with the pool's threads (each sums its slice), best of 5.
inline double measure_read_gb_per_s(ThreadPool& pool) {
  const size_t n_words = (256u << 20) / sizeof(uint64_t);
  std::vector<uint64_t> data(n_words, 3);
  std::vector<uint64_t> sums(static_cast<size_t>(pool.n_threads()), 0);
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(pool.n_threads(), 1, [&](int64_t begin, int64_t end) {
      for (int64_t part = begin; part < end; ++part) {
        const size_t lo = n_words * part / pool.n_threads(),
                     hi = n_words * (part + 1) / pool.n_threads();
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t w = lo; w + 4 <= hi; w += 4) {
          s0 += data[w];
          s1 += data[w + 1];
          s2 += data[w + 2];
          s3 += data[w + 3];
        }
        sums[part] = s0 + s1 + s2 + s3;
      }
    });
    best = std::max(best, n_words * sizeof(uint64_t) / seconds_since(start) / 1e9);
  }
  if (sums[0] == 0) std::abort();
  return best;
}

struct Shape {
  int64_t n_out, n_in;
};

inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  for (size_t pos = 0; pos < text.size();) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    items.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return items;
}

inline std::vector<Shape> parse_shapes(const std::string& text) {
  std::vector<Shape> shapes;
  for (const std::string& item : split_list(text)) {
    const size_t x = item.find('x');
    shapes.push_back({std::stoll(item.substr(0, x)), std::stoll(item.substr(x + 1))});
  }
  return shapes;
}

// The flags both kernel benchmarks take (the caller sets the defaults).
struct SweepOptions {
  std::vector<int> thread_counts = {1, 2};
  std::vector<int> row_counts;
  std::vector<Shape> shapes;
  double budget = 0.15;  // seconds per measurement
  int repeats = 3;       // best of
};

// Consumes --threads, --rows, --seconds, --repeats or --shapes (the value from
// next()); false for any other flag.
template <typename Next>
bool parse_sweep_flag(const std::string& arg, Next&& next, SweepOptions& options) {
  if (arg == "--threads")
    options.thread_counts = parse_int_list(next());
  else if (arg == "--rows")
    options.row_counts = parse_int_list(next());
  else if (arg == "--seconds")
    options.budget = std::stod(next());
  else if (arg == "--repeats")
    options.repeats = std::stoi(next());
  else if (arg == "--shapes")
    options.shapes = parse_shapes(next());
  else
    return false;
  return true;
}

// This machine's memory bandwidths, the roofline the kernels are compared with.
struct Bandwidths {
  double memcpy_gb_per_s = 0;
  std::map<int, double> read_gb_per_s;  // by thread count
  nlohmann::json info;  // {"bench": "bandwidth", ...}, for the caller to extend and print

  // Adds the timing and roofline fields of one kernel call that read
  // `weight_bytes` in `seconds` on `n_threads` threads: us_per_call, weight_bytes,
  // weight_gb_per_s, roofline_fraction (of one memcpy) and read_roofline_fraction
  // (of what this many threads can read: a tighter bound when several cores share
  // DRAM).
  void add_roofline(nlohmann::json& result, double weight_bytes, double seconds,
                    int n_threads) const {
    const double weight_gb_per_s = weight_bytes / seconds / 1e9;
    result["us_per_call"] = seconds * 1e6;
    result["weight_bytes"] = weight_bytes;
    result["weight_gb_per_s"] = weight_gb_per_s;
    result["roofline_fraction"] = weight_gb_per_s / memcpy_gb_per_s;
    result["read_roofline_fraction"] = weight_gb_per_s / read_gb_per_s.at(n_threads);
  }
};

inline Bandwidths measure_bandwidths(const std::vector<int>& thread_counts) {
  Bandwidths result;
  result.memcpy_gb_per_s = measure_memcpy_gb_per_s();
  result.info = {{"bench", "bandwidth"},
                 {"memcpy_gb_per_s", result.memcpy_gb_per_s},
                 {"cpu", cpu::cpu_features_string()},
                 {"detected_isa", cpu::isa_name(cpu::detect_isa())}};
  for (int n_threads : thread_counts) {
    ThreadPool pool(n_threads);
    const double read = measure_read_gb_per_s(pool);
    result.read_gb_per_s[n_threads] = read;
    result.info["read_gb_per_s_" + std::to_string(n_threads) + "t"] = read;
  }
  return result;
}

// `n_copies` copies of the same bytes at distinct addresses (64-byte aligned).
struct WeightCopies {
  AlignedBytes bytes;
  size_t stride = 0;
  int n_copies = 0;
  const uint8_t* copy(int i) const { return bytes.data() + stride * static_cast<size_t>(i); }
};

inline WeightCopies make_copies(const uint8_t* data, size_t n_bytes, bool cold) {
  WeightCopies copies;
  copies.stride = (n_bytes + 63) / 64 * 64;
  copies.n_copies =
      cold ? static_cast<int>(std::max<size_t>(2, kColdBytes / copies.stride + 1)) : 1;
  copies.bytes.resize(copies.stride * copies.n_copies);
  for (int i = 0; i < copies.n_copies; ++i)
    std::memcpy(copies.bytes.data() + copies.stride * i, data, n_bytes);
  return copies;
}

// Seconds per call of `run(copy_index)`, rotating copies: the best of `repeats`
// windows of about `budget` seconds each (the best window is the one least
// disturbed by other processes on a shared machine).
template <typename Run>
double time_per_call(int n_copies, double budget, int repeats, const Run& run) {
  run(0);  // warm up (thread pool, scratch buffers)
  double best = 1e30;
  int64_t calls = 0;
  for (int repeat = 0; repeat < repeats; ++repeat) {
    int64_t window_calls = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (window_calls < 3 || elapsed < budget) {
      run(static_cast<int>(calls++ % n_copies));
      ++window_calls;
      elapsed = seconds_since(start);
    }
    best = std::min(best, elapsed / static_cast<double>(window_calls));
  }
  return best;
}

}  // namespace bit_ttt::bench
