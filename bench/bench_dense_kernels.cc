// Dense LM-head / embedding kernels: GEMV (and optional GEMM) speed per kernel
// table × weight type, printed as JSON lines.
//   bench_dense_kernels [--threads 1,2] [--tables scalar,avx2,avx512,avx512vnni]
//                       [--dtypes f32,f16,bf16,int8] [--rows 1] [--seconds 0.15]
//                       [--repeats 3] [--shapes 16384x256,16384x768,32000x256,32000x768]
// Shapes are V×D (n_out × n_in). GFLOP/s counts 2·V·D per activation row. A GEMV
// streams every weight byte once (plus the int8 row scales), so weight bytes ÷ time
// against the machine's memcpy bandwidth (256 MB, best of 5, read + write counted,
// as bench_ternary_kernels) is the roofline fraction; read_roofline_fraction
// compares with the read-only bandwidth of the same number of threads. "cold"
// rotates through copies of the matrix totalling ≥ 192 MB, so the weights come from
// DRAM; "hot" reuses one copy (L2/L3 when it fits). The rows of W are split over
// the default thread pool's workers like the CPU backend would (grain 64 rows);
// int8 quantizes the activations once per call before the split (included).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench_memory.h"
#include "bench_util.h"
#include "core/thread_pool.h"
#include "kernels/cpu/dense_kernels.h"
#include "kernels/cpu/isa.h"
#include "kernels/ref/dense_ref.h"

namespace {

using Clock = std::chrono::steady_clock;
using bit_ttt::bench::seconds_since;
using namespace bit_ttt;
using namespace bit_ttt::bench;

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_dense_kernels [--threads 1,2] "
               "[--tables scalar,avx2,avx512,avx512vnni] [--dtypes f32,f16,bf16,int8] "
               "[--rows 1] [--seconds 0.15] [--repeats 3] "
               "[--shapes 16384x256,16384x768,32000x256,32000x768] [--no-hot]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  SweepOptions sweep;
  sweep.row_counts = {1};
  sweep.shapes = {{16384, 256}, {16384, 768}, {32000, 256}, {32000, 768}};
  std::vector<DenseDType> dtypes = {DenseDType::f32, DenseDType::f16, DenseDType::bf16,
                                    DenseDType::i8_row};
  std::vector<std::string> table_names;  // empty: every runnable table
  bool hot = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (parse_sweep_flag(arg, next, sweep))
      continue;
    else if (arg == "--tables")
      table_names = split_list(next());
    else if (arg == "--no-hot")
      hot = false;
    else if (arg == "--dtypes") {
      dtypes.clear();
      for (const std::string& name : split_list(next())) dtypes.push_back(parse_dense_dtype(name));
    } else {
      usage();
    }
  }
  const std::vector<int>& thread_counts = sweep.thread_counts;
  const std::vector<int>& row_counts = sweep.row_counts;
  const double budget = sweep.budget;
  const int repeats = sweep.repeats;
  std::vector<const cpu::DenseKernelTable*> tables;
  for (const cpu::DenseKernelTable* table : cpu::runnable_dense_kernel_tables())
    if (table_names.empty() ||
        std::find(table_names.begin(), table_names.end(), table->name) != table_names.end())
      tables.push_back(table);

  const Bandwidths bandwidths = measure_bandwidths(thread_counts);
  std::printf("%s\n", bandwidths.info.dump().c_str());
  std::fflush(stdout);

  for (const Shape shape : sweep.shapes) {
    std::mt19937_64 engine(static_cast<uint64_t>(shape.n_out * 7 + shape.n_in));
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> weights(static_cast<size_t>(shape.n_out * shape.n_in));
    for (auto& v : weights) v = normal(engine);
    const int max_rows = *std::max_element(row_counts.begin(), row_counts.end());
    std::vector<float> x(static_cast<size_t>(max_rows * shape.n_in));
    for (auto& v : x) v = normal(engine) * 50.0f;
    std::vector<float> out(static_cast<size_t>(max_rows * shape.n_out));
    std::vector<int8_t> xq(x.size());
    std::vector<float> gammas(static_cast<size_t>(max_rows));

    for (DenseDType dtype : dtypes) {
      const DenseMatrix matrix = convert_dense(dtype, weights.data(), shape.n_out, shape.n_in);
      const double weight_bytes =
          static_cast<double>(matrix.data.size() + matrix.row_scales.size() * sizeof(float));
      for (int n_threads : thread_counts) {
        set_default_thread_count(n_threads);
        ThreadPool& pool = default_thread_pool();
        for (bool cold : {true, false}) {
          if (!cold && !hot) continue;
          const WeightCopies copies = make_copies(matrix.data.data(), matrix.data.size(), cold);
          for (const cpu::DenseKernelTable* table : tables) {
            // avx512vnni differs from avx512 only in its int8 kernel.
            if (std::string(table->name) == "avx512vnni" && dtype != DenseDType::i8_row) continue;
            for (int n_rows : row_counts) {
              if (std::string(table->name) == "scalar" && n_rows > 1) continue;
              const double seconds = time_per_call(copies.n_copies, budget, repeats, [&](int copy) {
                DenseMatrixView view = matrix.view();
                view.data = copies.copy(copy);
                if (dtype == DenseDType::i8_row) {
                  cpu::dense_quantize_rows_i8(x.data(), n_rows, shape.n_in, xq.data(),
                                              gammas.data());
                  pool.parallel_for(shape.n_out, 64, [&](int64_t begin, int64_t end) {
                    table->gemm_i8(view, xq.data(), gammas.data(), n_rows, begin, end, out.data());
                  });
                } else {
                  pool.parallel_for(shape.n_out, 64, [&](int64_t begin, int64_t end) {
                    table->gemm[static_cast<int>(dtype)](view, x.data(), n_rows, begin, end,
                                                         out.data());
                  });
                }
              });
              const double ops = 2.0 * shape.n_out * shape.n_in * n_rows;
              nlohmann::json result = {{"bench", "dense_gemm"},
                                       {"table", table->name},
                                       {"dtype", dense_dtype_name(dtype)},
                                       {"n_out", shape.n_out},
                                       {"n_in", shape.n_in},
                                       {"rows", n_rows},
                                       {"threads", n_threads},
                                       {"cache", cold ? "cold" : "hot"},
                                       {"gflop_per_s", ops / seconds / 1e9}};
              bandwidths.add_roofline(result, weight_bytes, seconds, n_threads);
              std::printf("%s\n", result.dump().c_str());
              std::fflush(stdout);
            }
          }
        }
      }
    }
  }
  return 0;
}
