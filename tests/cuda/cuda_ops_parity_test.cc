// CPU == CUDA for every op of the Backend seam, one table row per op and shape
// with its tolerance (max |cuda − cpu| / max |cpu|). Integer paths (int8
// BitLinear, the int8 head, embedding lookups, copies) must match bit for bit;
// float reductions are ordered differently on the GPU. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "backend/backend.h"
#include "cuda_test_util.h"
#include "kernels/kernel_test_inputs.h"

namespace bit_ttt {
namespace {

using testing::relative_error;

using testing::random_tensor;

std::vector<float> to_host(Backend& backend, const Tensor& t) {
  std::vector<float> values(static_cast<size_t>(t.numel()));
  backend.download(t, values.data());
  return values;
}

// Runs `op` on both backends with the same host inputs; each input is uploaded
// to the op's backend and the output compared.
struct Case {
  std::string name;
  double tolerance;
};

Backend& cpu() {
  return cpu_backend();
}
Backend& gpu() {
  return backend_for(Device::cuda);
}

void expect_close(const Case& c, const std::vector<float>& got, const std::vector<float>& want) {
  const double error = relative_error(got, want);
  if (c.tolerance == 0)
    EXPECT_EQ(got, want) << c.name << ": expected bit-identical, relative error " << error;
  else
    EXPECT_LE(error, c.tolerance) << c.name;
}

TEST(CudaParity, UploadDownloadCopyRoundTrip) {
  SKIP_WITHOUT_GPU();
  const Tensor host = random_tensor({7, 33}, 1);
  Tensor device = gpu().upload(host);
  EXPECT_EQ(device.device(), Device::cuda);
  Tensor other = gpu().empty(DType::f32, {7, 33});
  gpu().copy(device, other);
  Tensor back = Tensor::zeros_cpu(DType::f32, {7, 33});
  cpu().copy(other, back);  // cross-device copy through the CPU backend's entry
  const std::vector<float> want(host.data<float>(), host.data<float>() + host.numel());
  EXPECT_EQ(to_host(gpu(), other), want);
  EXPECT_EQ(std::vector<float>(back.data<float>(), back.data<float>() + back.numel()), want);
}

TEST(CudaParity, BitLinearEveryModeAndShape) {
  SKIP_WITHOUT_GPU();
  struct Shape {
    int64_t rows, n_in, n_out;
  };
  const Shape shapes[] = {{1, 32, 8}, {1, 300, 70}, {5, 1024, 64}, {37, 256, 129}, {256, 48, 32}};
  for (TernaryFormat format : {TernaryFormat::i2, TernaryFormat::tq1})
    for (const Shape& s : shapes)
      for (ActivationQuant mode : {ActivationQuant::int8, ActivationQuant::none}) {
        const Tensor latent = random_tensor({s.n_out, s.n_in}, 2, 0.02f);
        const Tensor x = random_tensor({s.rows, s.n_in}, 3);
        // The packed host weight, uploaded as a .bitt file's bytes would be.
        const TernaryWeight host_w = cpu().prepare_ternary(latent, format);
        const TernaryWeight gpu_w =
            gpu().upload_ternary(host_w.packed, host_w.beta, host_w.storage);
        Tensor want = cpu().empty(DType::f32, {s.rows, s.n_out});
        cpu().bit_linear(x, host_w, mode, want);
        Tensor got = gpu().empty(DType::f32, {s.rows, s.n_out});
        gpu().bit_linear(gpu().upload(x), gpu_w, mode, got);
        const Case c{"bit_linear " + std::string(ternary_format_name(format)) + " " +
                         (mode == ActivationQuant::int8 ? "int8" : "none") + " " +
                         std::to_string(s.rows) + "x" + std::to_string(s.n_in) + "->" +
                         std::to_string(s.n_out),
                     mode == ActivationQuant::int8 ? 0.0 : 1e-5};
        expect_close(c, to_host(gpu(), got), to_host(cpu(), want));
      }
}

TEST(CudaParity, BitLinearPairEqualsTwoBitLinears) {
  SKIP_WITHOUT_GPU();
  const Tensor x = gpu().upload(random_tensor({9, 96}, 4));
  const TernaryWeight a = gpu().prepare_ternary(random_tensor({40, 96}, 5, 0.02f));
  const TernaryWeight b = gpu().prepare_ternary(random_tensor({40, 96}, 6, 0.02f));
  for (ActivationQuant mode : {ActivationQuant::int8, ActivationQuant::none}) {
    Tensor pa = gpu().empty(DType::f32, {9, 40}), pb = gpu().empty(DType::f32, {9, 40});
    Tensor sa = gpu().empty(DType::f32, {9, 40}), sb = gpu().empty(DType::f32, {9, 40});
    gpu().bit_linear_pair(x, a, b, mode, pa, pb);
    gpu().bit_linear(x, a, mode, sa);
    gpu().bit_linear(x, b, mode, sb);
    EXPECT_EQ(to_host(gpu(), pa), to_host(gpu(), sa));
    EXPECT_EQ(to_host(gpu(), pb), to_host(gpu(), sb));
  }
}

TEST(CudaParity, DenseHeadEveryDtypeBothPaths) {
  SKIP_WITHOUT_GPU();
  // 3 rows: the warp-per-row kernel; 40 rows: cuBLAS (f16/bf16 activations are
  // rounded to the weight's type there, hence the looser tolerances).
  struct Row {
    DenseDType dtype;
    int64_t rows;
    double tolerance;
  };
  const Row table[] = {{DenseDType::f32, 3, 1e-5},   {DenseDType::f32, 40, 1e-5},
                       {DenseDType::f16, 3, 1e-5},   {DenseDType::f16, 40, 5e-3},
                       {DenseDType::bf16, 3, 1e-5},  {DenseDType::bf16, 40, 2e-2},
                       {DenseDType::i8_row, 3, 0.0}, {DenseDType::i8_row, 40, 0.0}};
  for (int64_t n_in : {64, 30}) {
    const Tensor w = random_tensor({300, n_in}, 7, 0.05f);
    for (const Row& row : table) {
      const Tensor x = random_tensor({row.rows, n_in}, 8);
      const DenseWeight cw = cpu().prepare_dense(w, row.dtype);
      const DenseWeight gw = gpu().prepare_dense(w, row.dtype);
      Tensor want = cpu().empty(DType::f32, {row.rows, 300});
      Tensor got = gpu().empty(DType::f32, {row.rows, 300});
      cpu().dense_linear(x, cw, want);
      gpu().dense_linear(gpu().upload(x), gw, got);
      expect_close({"dense_linear " + std::string(dense_dtype_name(row.dtype)) + " rows " +
                        std::to_string(row.rows) + " n_in " + std::to_string(n_in),
                    row.tolerance},
                   to_host(gpu(), got), to_host(cpu(), want));
    }
  }
}

TEST(CudaParity, EmbeddingEveryDtypeIsExact) {
  SKIP_WITHOUT_GPU();
  const Tensor table = random_tensor({50, 24}, 9, 0.1f);
  const std::vector<int32_t> ids = {0, 49, 7, 7, 23};
  for (DenseDType dtype :
       {DenseDType::f32, DenseDType::f16, DenseDType::bf16, DenseDType::i8_row}) {
    Tensor want = cpu().empty(DType::f32, {5, 24});
    Tensor got = gpu().empty(DType::f32, {5, 24});
    cpu().embedding(cpu().prepare_dense(table, dtype), ids, want);
    gpu().embedding(gpu().prepare_dense(table, dtype), ids, got);
    expect_close({"embedding " + std::string(dense_dtype_name(dtype)), 0.0}, to_host(gpu(), got),
                 to_host(cpu(), want));
  }
  const std::vector<int32_t> bad = {50};
  Tensor out = gpu().empty(DType::f32, {1, 24});
  EXPECT_THROW(gpu().embedding(gpu().prepare_dense(table, DenseDType::f32), bad, out),
               std::exception);
}

TEST(CudaParity, ElementwiseAndRowOps) {
  SKIP_WITHOUT_GPU();
  for (int64_t cols : {8, 300, 2048}) {
    const Tensor x = random_tensor({6, cols}, 10);
    const Tensor y = random_tensor({6, cols}, 11);
    const Tensor weight = random_tensor({cols}, 12);
    const std::string shape = " 6x" + std::to_string(cols);
    {
      Tensor want = cpu().empty(DType::f32, {6, cols}), got = gpu().empty(DType::f32, {6, cols});
      cpu().rms_norm(x, weight, 1e-6f, want);
      gpu().rms_norm(gpu().upload(x), gpu().upload(weight), 1e-6f, got);
      expect_close({"rms_norm" + shape, 2e-6}, to_host(gpu(), got), to_host(cpu(), want));
    }
    {
      Tensor want = cpu().empty(DType::f32, {6, cols}), got = gpu().empty(DType::f32, {6, cols});
      cpu().swiglu(x, y, want);
      gpu().swiglu(gpu().upload(x), gpu().upload(y), got);
      expect_close({"swiglu" + shape, 2e-6}, to_host(gpu(), got), to_host(cpu(), want));
    }
    {
      Tensor want = cpu().upload(random_tensor({6, cols}, 10));
      Tensor got = gpu().upload(x);
      cpu().add_in_place(want, y);
      gpu().add_in_place(got, gpu().upload(y));
      expect_close({"add_in_place" + shape, 0.0}, to_host(gpu(), got), to_host(cpu(), want));
    }
    {
      Tensor want = random_tensor({6, cols}, 10);
      Tensor got = gpu().upload(want);
      cpu().l2_normalize_rows(want, 1e-6f);
      gpu().l2_normalize_rows(got, 1e-6f);
      expect_close({"l2_normalize_rows" + shape, 2e-6}, to_host(gpu(), got), to_host(cpu(), want));
    }
  }
}

TEST(CudaParity, TttScanEveryWidth) {
  SKIP_WITHOUT_GPU();
  for (int64_t d : {8, 64, 100, 256, 1024})
    for (int64_t steps : {1, 300}) {
      Tensor f = random_tensor({steps, d}, 13);
      cpu().l2_normalize_rows(f, 1e-6f);  // the scan's inputs are unit features
      Tensor cpu_state = cpu().upload(random_tensor({d, d}, 14, 0.01f));
      Tensor gpu_state = gpu().upload(cpu_state);
      Tensor want = cpu().empty(DType::f32, {steps, d}), got = gpu().empty(DType::f32, {steps, d});
      cpu().ttt_scan(f, 0.5f, cpu_state, want);
      gpu().ttt_scan(gpu().upload(f), 0.5f, gpu_state, got);
      const std::string shape = " d " + std::to_string(d) + " steps " + std::to_string(steps);
      expect_close({"ttt_scan predictions" + shape, 1e-5}, to_host(gpu(), got),
                   to_host(cpu(), want));
      expect_close({"ttt_scan state" + shape, 1e-5}, to_host(gpu(), gpu_state),
                   to_host(cpu(), cpu_state));
    }
}

}  // namespace
}  // namespace bit_ttt
