// Packed ternary kernels: GEMV / GEMM speed per ISA × format × activation mode,
// printed as JSON lines.
//   bench_ternary_kernels [--threads 1,2] [--isa scalar,avx2,avx512] [--rows 1,16,64]
//                         [--seconds 0.15] [--repeats 3] [--shapes 4096x4096,3072x768]
// GOP/s counts 2·n_out·n_in per activation row. A GEMV must stream every weight
// byte once, so weight bytes ÷ time against the machine's memcpy bandwidth
// (256 MB, best of 5, read + write counted) is the roofline
// fraction. "cold" rotates through copies of the matrix totalling ≥ 192 MB, so
// weights come from DRAM and not from the 32 MB L3 as a hot 4 MB matrix would;
// "hot" reuses one copy. read_roofline_fraction compares with the read-only
// bandwidth of the same number of threads (one memcpy thread underestimates two). "int8codes" is
// the layout the CPU backend used before the packed kernels (one byte per code,
// cpu::dot_*_ternary per row), the
// baseline to beat.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include <immintrin.h>

#include <map>

#include "bench_memory.h"
#include "bench_util.h"
#include "core/thread_pool.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ternary_kernels.h"
#include "kernels/ref/ternary_packed_ref.h"

namespace {

using Clock = std::chrono::steady_clock;
using bit_ttt::bench::seconds_since;
using namespace bit_ttt;
using namespace bit_ttt::bench;

// ---- compute peak: register-only loops, 12 independent chains per ISA ---------
// GOP/s of one core (a multiply-add counts 2), the compute roof of a kernel
// next to the memory roof. Each function only runs when CPUID reports its ISA.
#if defined(__x86_64__)
// Returns the first 4 bytes of the folded accumulators (keeps the loop alive).
#define BT_PEAK_LOOP(TYPE, INIT, STEP, FOLD)    \
  TYPE acc[12];                                 \
  for (int k = 0; k < 12; ++k) acc[k] = INIT;   \
  for (int64_t i = 0; i < iterations; ++i)      \
    for (int k = 0; k < 12; ++k) acc[k] = STEP; \
  for (int k = 1; k < 12; ++k) acc[0] = FOLD;   \
  int32_t first = 0;                            \
  std::memcpy(&first, &acc[0], sizeof(first));  \
  return first

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int32_t peak_vnni(int64_t iterations,
                                                                         char a8, char b8) {
  const __m512i a = _mm512_set1_epi8(a8), b = _mm512_set1_epi8(b8);
  BT_PEAK_LOOP(__m512i, _mm512_set1_epi32(k), _mm512_dpbusd_epi32(acc[k], a, b),
               _mm512_add_epi32(acc[0], acc[k]));
}
__attribute__((target("avx512f,avx512bw"))) int32_t peak_avx512_i8(int64_t iterations, char a8,
                                                                   char b8) {
  const __m512i a = _mm512_set1_epi8(a8), b = _mm512_set1_epi8(b8);
  const __m512i ones = _mm512_set1_epi16(1);
  BT_PEAK_LOOP(__m512i, _mm512_set1_epi32(k),
               _mm512_add_epi32(acc[k], _mm512_madd_epi16(_mm512_maddubs_epi16(a, b), ones)),
               _mm512_add_epi32(acc[0], acc[k]));
}
__attribute__((target("avx2"))) int32_t peak_avx2_i8(int64_t iterations, char a8, char b8) {
  const __m256i a = _mm256_set1_epi8(a8), b = _mm256_set1_epi8(b8);
  const __m256i ones = _mm256_set1_epi16(1);
  BT_PEAK_LOOP(__m256i, _mm256_set1_epi32(k),
               _mm256_add_epi32(acc[k], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones)),
               _mm256_add_epi32(acc[0], acc[k]));
}
__attribute__((target("avx512f"))) int32_t peak_avx512_f32(int64_t iterations, float a1, float b1) {
  const __m512 a = _mm512_set1_ps(a1), b = _mm512_set1_ps(b1);
  BT_PEAK_LOOP(__m512, _mm512_set1_ps(static_cast<float>(k)), _mm512_fmadd_ps(a, b, acc[k]),
               _mm512_add_ps(acc[0], acc[k]));
}
__attribute__((target("avx2,fma"))) int32_t peak_avx2_f32(int64_t iterations, float a1, float b1) {
  const __m256 a = _mm256_set1_ps(a1), b = _mm256_set1_ps(b1);
  BT_PEAK_LOOP(__m256, _mm256_set1_ps(static_cast<float>(k)), _mm256_fmadd_ps(a, b, acc[k]),
               _mm256_add_ps(acc[0], acc[k]));
}

// Peak GOP/s of one core for the ternary kernels of `table` in `mode` ("i8": the
// int8 multiply-adds that table uses; "f32": FMA). 0 for the scalar table.
double measure_peak_gop_per_s(const std::string& table, const std::string& mode) {
  const int64_t iterations = 2'000'000;
  double ops_per_iteration = 0;  // 12 chains × lanes × 2
  const auto start = Clock::now();
  volatile int sink = 0;
  if (mode == "i8" && table == "avx512vnni") {
    sink = peak_vnni(iterations, 1, 1);
    ops_per_iteration = 12 * 64 * 2;
  } else if (mode == "i8" && table == "avx512") {
    sink = peak_avx512_i8(iterations, 1, 1);
    ops_per_iteration = 12 * 64 * 2;
  } else if (mode == "i8" && table == "avx2") {
    sink = peak_avx2_i8(iterations, 1, 1);
    ops_per_iteration = 12 * 32 * 2;
  } else if (mode == "f32" && table.starts_with("avx512")) {
    sink = peak_avx512_f32(iterations, 1e-9f, 1e-9f);
    ops_per_iteration = 12 * 16 * 2;
  } else if (mode == "f32" && table == "avx2") {
    sink = peak_avx2_f32(iterations, 1e-9f, 1e-9f);
    ops_per_iteration = 12 * 8 * 2;
  } else {
    return 0;
  }
  (void)sink;
  return ops_per_iteration * static_cast<double>(iterations) / seconds_since(start) / 1e9;
}
#undef BT_PEAK_LOOP
#else
double measure_peak_gop_per_s(const std::string&, const std::string&) {
  return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  SweepOptions sweep;
  sweep.row_counts = {1, 16, 64};
  sweep.shapes = {{4096, 4096}, {3072, 768}};
  std::vector<cpu::Isa> isas = cpu::supported_isas();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (parse_sweep_flag(arg, next, sweep)) {
      continue;
    } else if (arg == "--isa") {
      isas.clear();
      for (const std::string& name : split_list(next())) isas.push_back(cpu::parse_isa(name));
    } else {
      std::fprintf(
          stderr,
          "usage: bench_ternary_kernels [--threads 1,2] [--isa scalar,avx2,avx512] "
          "[--rows 1,16,64] [--seconds 0.15] [--repeats 3] [--shapes 4096x4096,3072x768]\n");
      return 2;
    }
  }
  const std::vector<int>& thread_counts = sweep.thread_counts;
  const std::vector<int>& row_counts = sweep.row_counts;
  const double budget = sweep.budget;
  const int repeats = sweep.repeats;

  const Bandwidths bandwidths = measure_bandwidths(thread_counts);
  {
    nlohmann::json info = bandwidths.info;
    for (cpu::Isa isa : isas)
      for (const std::string mode : {"i8", "f32"}) {
        const std::string table = cpu::ternary_kernels(isa).name;
        info["peak_gop_per_s_1core_" + table + "_" + mode] = measure_peak_gop_per_s(table, mode);
      }
    std::printf("%s\n", info.dump().c_str());
    std::fflush(stdout);
  }

  std::map<std::string, double> peaks;  // by table + mode, measured once
  auto measure_peak_cached = [&](const std::string& table, const std::string& mode) {
    auto [it, inserted] = peaks.try_emplace(table + mode, 0.0);
    if (inserted) it->second = measure_peak_gop_per_s(table, mode);
    return it->second;
  };
  std::mt19937_64 engine(1);
  for (const Shape shape : sweep.shapes) {
    std::vector<int8_t> codes(static_cast<size_t>(shape.n_out * shape.n_in));
    for (auto& c : codes) c = static_cast<int8_t>(static_cast<int>(engine() % 3) - 1);
    const int max_rows = *std::max_element(row_counts.begin(), row_counts.end());
    std::vector<int8_t> xq(static_cast<size_t>(max_rows * shape.n_in));
    std::vector<float> x(xq.size());
    for (size_t i = 0; i < xq.size(); ++i) {
      xq[i] = static_cast<int8_t>(static_cast<int>(engine() % 255) - 127);
      x[i] = static_cast<float>(xq[i]) / 127.0f;
    }
    std::vector<int32_t> out_i8(static_cast<size_t>(max_rows * shape.n_out));
    std::vector<float> out_f32(out_i8.size());

    auto report = [&](const std::string& isa, const std::string& format, const std::string& mode,
                      int n_rows, int n_threads, bool cold, double seconds, double weight_bytes) {
      const double ops = 2.0 * shape.n_out * shape.n_in * n_rows;
      const double peak = n_threads * measure_peak_cached(isa, mode);
      nlohmann::json result = {{"bench", "ternary_gemm"},
                               {"isa", isa},
                               {"format", format},
                               {"mode", mode},
                               {"n_out", shape.n_out},
                               {"n_in", shape.n_in},
                               {"rows", n_rows},
                               {"threads", n_threads},
                               {"cache", cold ? "cold" : "hot"},
                               {"gop_per_s", ops / seconds / 1e9},
                               // against the cores' int8 multiply-add (i8) or FMA (f32) peak
                               {"compute_fraction", peak > 0 ? ops / seconds / 1e9 / peak : 0.0}};
      bandwidths.add_roofline(result, weight_bytes, seconds, n_threads);
      std::printf("%s\n", result.dump().c_str());
      std::fflush(stdout);
    };

    for (int n_threads : thread_counts) {
      ThreadPool pool(n_threads);
      // Packed formats × ISAs.
      for (TernaryFormat format : {TernaryFormat::i2, TernaryFormat::tq1}) {
        const PackedTernary packed = pack_ternary(format, codes.data(), shape.n_out, shape.n_in, 1);
        for (bool cold : {true, false}) {
          const WeightCopies copies = make_copies(packed.data.data(), packed.data.size(), cold);
          for (cpu::Isa isa : isas) {
            const cpu::TernaryKernelTable& kernels = cpu::ternary_kernels(isa);
            for (int n_rows : row_counts) {
              if (!cold && n_rows > 1) continue;  // hot only matters for the bandwidth-bound GEMV
              if (isa == cpu::Isa::scalar && n_rows > 1) continue;  // minutes per point
              for (const std::string mode : {"i8", "f32"}) {
                const double seconds =
                    time_per_call(copies.n_copies, budget, repeats, [&](int copy) {
                      TernaryMatrixView view = packed.view();
                      view.data = copies.copy(copy);
                      pool.parallel_for(shape.n_out, 64, [&](int64_t begin, int64_t end) {
                        if (mode == "i8")
                          kernels.gemm_i8[static_cast<int>(format)](view, xq.data(), n_rows, begin,
                                                                    end, out_i8.data());
                        else
                          kernels.gemm_f32[static_cast<int>(format)](view, x.data(), n_rows, begin,
                                                                     end, out_f32.data());
                      });
                    });
                report(kernels.name, std::string(ternary_format_name(format)), mode, n_rows,
                       n_threads, cold, seconds, static_cast<double>(packed.data.size()));
              }
            }
          }
        }
      }
      // Baseline: unpacked int8 codes with cpu::dot_*_ternary (one call per row and output).
      const WeightCopies copies =
          make_copies(reinterpret_cast<const uint8_t*>(codes.data()), codes.size(), true);
      for (int n_rows : row_counts) {
        if (n_rows > 16) continue;
        for (const std::string mode : {"i8", "f32"}) {
          const double seconds = time_per_call(copies.n_copies, budget, repeats, [&](int copy) {
            const int8_t* w = reinterpret_cast<const int8_t*>(copies.copy(copy));
            pool.parallel_for(shape.n_out, 16, [&](int64_t begin, int64_t end) {
              for (int64_t o = begin; o < end; ++o)
                for (int r = 0; r < n_rows; ++r) {
                  if (mode == "i8")
                    out_i8[r * shape.n_out + o] = cpu::dot_i8_ternary(
                        xq.data() + r * shape.n_in, w + o * shape.n_in, shape.n_in);
                  else
                    out_f32[r * shape.n_out + o] = cpu::dot_f32_ternary(
                        x.data() + r * shape.n_in, w + o * shape.n_in, shape.n_in);
                }
            });
          });
          report(cpu::simd_name(), "int8codes", mode, n_rows, n_threads, true, seconds,
                 static_cast<double>(codes.size()));
        }
      }
    }
  }
  return 0;
}
