// Per-op gradient checks in double precision: every backward against central
// finite differences of its forward, except BitLinear, whose STE backward is by
// definition not the derivative of its forward: it is checked against the STE
// formulas computed independently (and its identity form by finite differences).
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/ref/ref_kernels.h"
#include "train/ops_bit_linear.h"
#include "train/ops_blas.h"
#include "train/ops_cross_entropy.h"
#include "train/ops_embedding.h"
#include "train/ops_norm.h"
#include "train/ops_swiglu.h"
#include "train/ops_ttt.h"
#include "train_test_util.h"

namespace bit_ttt {
namespace {

using namespace train;
using testing::dot_product;
using testing::max_relative_difference;
using testing::numeric_gradient;
using testing::random_values;

constexpr double kTolerance = 1e-6;

TEST(OpsGradTest, GemmVariantsMatchNaiveProducts) {
  // Sizes large enough that the products are split over the pool, both along m and n.
  for (auto [m, n, k] :
       {std::tuple<int64_t, int64_t, int64_t>{3, 5, 4}, {200, 40, 48}, {24, 300, 64}}) {
    const auto a = random_values(static_cast<size_t>(m * k), 1.0, 1);
    const auto b = random_values(static_cast<size_t>(n * k), 1.0, 2);
    const auto c0 = random_values(static_cast<size_t>(m * n), 1.0, 3);
    // nt: a[m,k] · b[n,k]ᵀ;  nn: a[m,k] · b[k,n];  tn: a[k,m]ᵀ · b[k,n]
    std::vector<double> nt = c0, nn = c0, tn = c0;
    std::vector<double> nt_ref(c0.size()), nn_ref(c0.size()), tn_ref(c0.size());
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s_nt = 0, s_nn = 0, s_tn = 0;
        for (int64_t p = 0; p < k; ++p) {
          s_nt += a[i * k + p] * b[j * k + p];
          s_nn += a[i * k + p] * b[p * n + j];
          s_tn += a[p * m + i] * b[p * n + j];
        }
        nt_ref[i * n + j] = 2 * s_nt + 0.5 * c0[i * n + j];
        nn_ref[i * n + j] = 2 * s_nn + 0.5 * c0[i * n + j];
        tn_ref[i * n + j] = 2 * s_tn + 0.5 * c0[i * n + j];
      }
    gemm_nt(nt.data(), a.data(), b.data(), m, n, k, 2.0, 0.5);
    gemm_nn(nn.data(), a.data(), b.data(), m, n, k, 2.0, 0.5);
    gemm_tn(tn.data(), a.data(), b.data(), m, n, k, 2.0, 0.5);
    EXPECT_LT(max_relative_difference(nt, nt_ref), 1e-13) << m << "x" << n << "x" << k;
    EXPECT_LT(max_relative_difference(nn, nn_ref), 1e-13) << m << "x" << n << "x" << k;
    EXPECT_LT(max_relative_difference(tn, tn_ref), 1e-13) << m << "x" << n << "x" << k;
    // The float instances compute the same products.
    std::vector<float> a_f(a.begin(), a.end()), b_f(b.begin(), b.end()), c_f(c0.begin(), c0.end());
    gemm_nt(c_f.data(), a_f.data(), b_f.data(), m, n, k, 2.0f, 0.5f);
    EXPECT_LT(max_relative_difference(c_f, nt_ref), 1e-5);
  }
}

TEST(OpsGradTest, RmsNorm) {
  const int64_t rows = 3, dim = 7;
  auto in = random_values(rows * dim, 1.0, 1);
  auto weight = random_values(dim, 1.0, 2);
  const auto probe = random_values(rows * dim, 1.0, 3);  // L = Σ probe ⊙ out
  const double eps = 1e-5;
  std::vector<double> out(rows * dim), rstd(rows);
  auto loss = [&] {
    rms_norm_forward(out.data(), rstd.data(), in.data(), weight.data(), rows, dim, eps);
    return dot_product(out, probe);
  };
  loss();
  std::vector<double> d_in(rows * dim), d_weight(dim, 0.0);
  rms_norm_backward(d_in.data(), d_weight.data(), probe.data(), in.data(), weight.data(),
                    rstd.data(), rows, dim);
  EXPECT_LT(max_relative_difference(d_in, numeric_gradient(in, loss)), kTolerance);
  EXPECT_LT(max_relative_difference(d_weight, numeric_gradient(weight, loss)), kTolerance);
  // The weight gradient accumulates; the input gradient is overwritten.
  rms_norm_backward(d_in.data(), d_weight.data(), probe.data(), in.data(), weight.data(),
                    rstd.data(), rows, dim);
  auto twice = numeric_gradient(weight, loss);
  for (double& v : twice) v *= 2;
  EXPECT_LT(max_relative_difference(d_weight, twice), kTolerance);
  EXPECT_LT(max_relative_difference(d_in, numeric_gradient(in, loss)), kTolerance);
}

TEST(OpsGradTest, L2Normalize) {
  const int64_t rows = 4, dim = 5;
  auto in = random_values(rows * dim, 1.0, 4);
  in[2] = 0;  // a zero component is nothing special; a zero row is tested below
  const auto probe = random_values(rows * dim, 1.0, 5);
  const double eps = 1e-6;
  std::vector<double> out(rows * dim), norm(rows);
  auto loss = [&] {
    l2_normalize_forward(out.data(), norm.data(), in.data(), rows, dim, eps);
    return dot_product(out, probe);
  };
  loss();
  std::vector<double> d_in(rows * dim);
  l2_normalize_backward(d_in.data(), probe.data(), out.data(), norm.data(), rows, dim, eps);
  EXPECT_LT(max_relative_difference(d_in, numeric_gradient(in, loss)), kTolerance);

  // k = 0: ‖k‖ has no derivative there; the backward uses its subgradient 0 and stays
  // finite (f = k/ε near 0, so ∂f/∂k = 1/ε).
  std::vector<double> zero(dim, 0.0), f(dim), n(1), d_zero(dim);
  l2_normalize_forward(f.data(), n.data(), zero.data(), 1, dim, eps);
  l2_normalize_backward(d_zero.data(), probe.data(), f.data(), n.data(), 1, dim, eps);
  for (int64_t i = 0; i < dim; ++i) EXPECT_DOUBLE_EQ(d_zero[i], probe[i] / eps);
}

TEST(OpsGradTest, Swiglu) {
  const int64_t n = 17;
  auto gate = random_values(n, 4.0, 6);
  auto up = random_values(n, 2.0, 7);
  const auto probe = random_values(n, 1.0, 8);
  std::vector<double> out(n);
  auto loss = [&] {
    swiglu_forward(out.data(), gate.data(), up.data(), n);
    return dot_product(out, probe);
  };
  loss();
  std::vector<double> d_gate(n), d_up(n);
  swiglu_backward(d_gate.data(), d_up.data(), probe.data(), gate.data(), up.data(), n);
  EXPECT_LT(max_relative_difference(d_gate, numeric_gradient(gate, loss)), kTolerance);
  EXPECT_LT(max_relative_difference(d_up, numeric_gradient(up, loss)), kTolerance);
  // d_gate may alias d_out.
  std::vector<double> aliased = probe, d_up2(n);
  swiglu_backward(aliased.data(), d_up2.data(), aliased.data(), gate.data(), up.data(), n);
  EXPECT_EQ(aliased, d_gate);
  EXPECT_EQ(d_up2, d_up);
  // Float: forward is the inference kernel, backward uses exp_fast.
  const std::vector<float> gate_f(gate.begin(), gate.end()), up_f(up.begin(), up.end()),
      probe_f(probe.begin(), probe.end());
  std::vector<float> out_f(n), d_gate_f(n), d_up_f(n);
  swiglu_forward(out_f.data(), gate_f.data(), up_f.data(), n);
  EXPECT_LT(max_relative_difference(out_f, out), 1e-6);
  swiglu_backward(d_gate_f.data(), d_up_f.data(), probe_f.data(), gate_f.data(), up_f.data(), n);
  EXPECT_LT(max_relative_difference(d_gate_f, d_gate), 1e-6);
  EXPECT_LT(max_relative_difference(d_up_f, d_up), 1e-6);
}

TEST(OpsGradTest, CrossEntropy) {
  const int64_t rows = 4, vocab = 11;
  auto logits = random_values(rows * vocab, 3.0, 9);
  const std::vector<int32_t> targets = {3, -1, 0, 10};
  const double d_loss = 0.37;
  std::vector<double> probs(rows * vocab), losses(rows);
  auto loss = [&] {
    cross_entropy_forward(probs.data(), losses.data(), logits.data(), targets.data(), rows, vocab);
    double sum = 0;
    for (double l : losses) sum += d_loss * l;
    return sum;
  };
  loss();
  EXPECT_EQ(losses[1], 0.0);
  for (int64_t r : {0, 2, 3}) {
    double sum = 0, lse = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      sum += probs[r * vocab + v];
      lse += std::exp(logits[r * vocab + v]);
    }
    EXPECT_NEAR(sum, 1.0, 1e-14);
    EXPECT_NEAR(losses[r], std::log(lse) - logits[r * vocab + targets[r]], 1e-13);
  }
  std::vector<double> d_logits(rows * vocab);
  cross_entropy_backward(d_logits.data(), d_loss, probs.data(), targets.data(), rows, vocab);
  EXPECT_LT(max_relative_difference(d_logits, numeric_gradient(logits, loss)), kTolerance);
  for (int64_t v = 0; v < vocab; ++v) EXPECT_EQ(d_logits[vocab + v], 0.0);

  // The fused form (in place over the logits) gives the same losses and gradients.
  loss();  // losses of the unperturbed logits again
  std::vector<double> fused = logits, fused_losses(rows);
  cross_entropy_forward_backward(fused.data(), fused_losses.data(), fused.data(), targets.data(),
                                 d_loss, rows, vocab);
  EXPECT_LT(max_relative_difference(fused, d_logits), 1e-14);
  EXPECT_LT(max_relative_difference(fused_losses, losses), 1e-14);
  // And the float forms agree with the double ones (exp_fast is accurate to 2e-7).
  std::vector<float> fused_f(logits.begin(), logits.end()), losses_f(rows);
  cross_entropy_forward_backward(fused_f.data(), losses_f.data(), fused_f.data(), targets.data(),
                                 static_cast<float>(d_loss), rows, vocab);
  EXPECT_LT(max_relative_difference(fused_f, d_logits), 1e-6);
  EXPECT_LT(max_relative_difference(losses_f, losses), 1e-6);
}

TEST(OpsGradTest, Embedding) {
  const int64_t vocab = 6, dim = 4;
  auto table = random_values(vocab * dim, 1.0, 10);
  const std::vector<int32_t> tokens = {2, 5, 2, 0, 2};  // repeats accumulate
  const int64_t rows = static_cast<int64_t>(tokens.size());
  const auto probe = random_values(rows * dim, 1.0, 11);
  std::vector<double> out(rows * dim);
  auto loss = [&] {
    embedding_forward(out.data(), table.data(), tokens.data(), rows, dim);
    return dot_product(out, probe);
  };
  std::vector<double> d_table(vocab * dim, 0.0);
  embedding_backward(d_table.data(), probe.data(), tokens.data(), rows, dim);
  EXPECT_LT(max_relative_difference(d_table, numeric_gradient(table, loss)), kTolerance);
}

// The TTT scan through its recurrence: d_f collects every path through later states.
// d 32 and 64 run the backward's compile-time-width instances, d 4 the generic one.
TEST(OpsGradTest, TttScan) {
  const int n_slots = 2;
  for (auto [n_seqs, seq_len, d, eta] :
       {std::tuple<int64_t, int64_t, int64_t, double>{3, 6, 4, 0.5},
        {3, 6, 4, 1.3},
        {2, 5, 32, 0.7},
        {2, 4, 64, 0.9}}) {
    auto f = random_values(n_seqs * seq_len * d, 1.0, 12);
    // Unit-length features, as the model feeds the scan: keeps S bounded for large d.
    for (int64_t r = 0; r < n_seqs * seq_len; ++r) {
      double norm = 0;
      for (int64_t i = 0; i < d; ++i) norm += f[r * d + i] * f[r * d + i];
      for (int64_t i = 0; i < d; ++i) f[r * d + i] /= std::sqrt(norm);
    }
    const auto probe = random_values(n_seqs * seq_len * d, 1.0, 13);
    std::vector<double> p(f.size());
    std::vector<double> scratch(
        static_cast<size_t>(ttt_scan_backward_scratch_size(seq_len, d, n_slots)));
    auto loss = [&] {
      ttt_scan_forward(p.data(), f.data(), n_seqs, seq_len, d, eta, scratch.data(), n_slots);
      return dot_product(p, probe);
    };
    loss();
    // The forward is the per-token recurrence of the spec.
    for (int64_t b = 0; b < n_seqs; ++b) {
      std::vector<double> S(d * d, 0.0);
      for (int64_t t = 0; t < seq_len; ++t) {
        const double* ft = f.data() + (b * seq_len + t) * d;
        std::vector<double> pt(d, 0.0);
        for (int64_t r = 0; r < d; ++r)
          for (int64_t col = 0; col < d; ++col) pt[r] += S[r * d + col] * ft[col];
        for (int64_t r = 0; r < d; ++r)
          for (int64_t col = 0; col < d; ++col) S[r * d + col] -= eta * (pt[r] - ft[r]) * ft[col];
        for (int64_t r = 0; r < d; ++r) EXPECT_NEAR(p[(b * seq_len + t) * d + r], pt[r], 1e-12);
      }
    }
    std::vector<double> d_f(f.size());
    ttt_scan_backward(d_f.data(), probe.data(), f.data(), n_seqs, seq_len, d, eta, scratch.data(),
                      n_slots);
    EXPECT_LT(max_relative_difference(d_f, numeric_gradient(f, loss)), kTolerance)
        << "d " << d << " eta " << eta;
  }
}

// Independent STE reference: W~ = β·clamp(round(W/β)), x~ per the spec, then
// y = x~·W~ᵀ, ∂x = ∂y·W~, ∂W = ∂yᵀ·x~, all by plain loops.
TEST(OpsGradTest, BitLinearSteMatchesItsDefinition) {
  const int64_t rows = 5, n_in = 12, n_out = 7;
  const auto latent = random_values(n_out * n_in, 0.05, 14);
  auto x = random_values(rows * n_in, 2.0, 15);
  const auto d_out = random_values(rows * n_out, 1.0, 16);

  double beta = 0;
  for (double w : latent) beta += std::fabs(w);
  beta = std::max(beta / static_cast<double>(latent.size()), 1e-5);
  std::vector<double> w_tilde(latent.size());
  for (size_t i = 0; i < latent.size(); ++i)
    w_tilde[i] = beta * std::clamp(std::nearbyint(latent[i] / beta), -1.0, 1.0);

  for (bool int8 : {false, true}) {
    std::vector<double> x_tilde = x;
    if (int8) {
      for (int64_t r = 0; r < rows; ++r) {
        double gamma = 0;
        for (int64_t i = 0; i < n_in; ++i) gamma = std::max(gamma, std::fabs(x[r * n_in + i]));
        gamma = std::max(gamma, 1e-5);
        for (int64_t i = 0; i < n_in; ++i)
          x_tilde[r * n_in + i] =
              std::clamp(std::nearbyint(x[r * n_in + i] * 127.0 / gamma), -128.0, 127.0) * gamma /
              127.0;
      }
    }
    std::vector<double> y_ref(rows * n_out, 0.0), dx_ref(rows * n_in, 0.0),
        dw_ref(n_out * n_in, 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < n_out; ++o)
        for (int64_t i = 0; i < n_in; ++i) {
          y_ref[r * n_out + o] += x_tilde[r * n_in + i] * w_tilde[o * n_in + i];
          dx_ref[r * n_in + i] += d_out[r * n_out + o] * w_tilde[o * n_in + i];
          dw_ref[o * n_in + i] += d_out[r * n_out + o] * x_tilde[r * n_in + i];
        }

    std::vector<double> codes(latent.size());
    std::vector<int8_t> scratch(std::max(latent.size(), x.size()));
    BitLinearWeight<double> w;
    w.scale = ternary_quantize_weight(codes.data(), latent.data(), n_out * n_in, scratch.data());
    w.values = codes.data();
    w.n_out = n_out;
    w.n_in = n_in;
    EXPECT_DOUBLE_EQ(w.scale, beta);

    std::vector<double> saved = x, xq(x.size()), gamma(rows), y(rows * n_out);
    if (int8) {
      int8_quantize_activations(saved.data(), xq.data(), gamma.data(), saved.data(), rows, n_in,
                                scratch.data());
      bit_linear_forward(y.data(), xq.data(), gamma.data(), w, rows);
    } else {
      bit_linear_forward(y.data(), saved.data(), static_cast<const double*>(nullptr), w, rows);
    }
    EXPECT_LT(max_relative_difference(saved, x_tilde), 1e-15) << "int8 " << int8;
    EXPECT_LT(max_relative_difference(y, y_ref), 1e-13) << "int8 " << int8;

    std::vector<double> d_in(rows * n_in), d_weight(n_out * n_in, 0.0);
    bit_linear_backward(d_in.data(), d_weight.data(), d_out.data(), saved.data(), w, rows, false);
    EXPECT_LT(max_relative_difference(d_in, dx_ref), 1e-13) << "int8 " << int8;
    EXPECT_LT(max_relative_difference(d_weight, dw_ref), 1e-13) << "int8 " << int8;
    // accumulate_d_in adds (the gate and up branches share their input).
    bit_linear_backward(d_in.data(), d_weight.data(), d_out.data(), saved.data(), w, rows, true);
    for (double& v : dx_ref) v *= 2;
    for (double& v : dw_ref) v *= 2;
    EXPECT_LT(max_relative_difference(d_in, dx_ref), 1e-13);
    EXPECT_LT(max_relative_difference(d_weight, dw_ref), 1e-13);
  }
}

// With identity quantization (values = W, scale 1) BitLinear is a plain linear map,
// whose backward finite differences check exactly.
TEST(OpsGradTest, BitLinearIdentityByFiniteDifferences) {
  const int64_t rows = 4, n_in = 6, n_out = 5;
  auto weight_values = random_values(n_out * n_in, 1.0, 17);
  auto x = random_values(rows * n_in, 1.0, 18);
  const auto probe = random_values(rows * n_out, 1.0, 19);
  std::vector<double> y(rows * n_out);
  auto loss = [&] {
    BitLinearWeight<double> w{weight_values.data(), 1.0, n_out, n_in};
    bit_linear_forward(y.data(), x.data(), static_cast<const double*>(nullptr), w, rows);
    return dot_product(y, probe);
  };
  BitLinearWeight<double> w{weight_values.data(), 1.0, n_out, n_in};
  std::vector<double> d_in(rows * n_in), d_weight(n_out * n_in, 0.0);
  bit_linear_backward(d_in.data(), d_weight.data(), probe.data(), x.data(), w, rows, false);
  EXPECT_LT(max_relative_difference(d_in, numeric_gradient(x, loss)), kTolerance);
  EXPECT_LT(max_relative_difference(d_weight, numeric_gradient(weight_values, loss)), kTolerance);
}

// Float BitLinear quantizes with the inference's quantizers and, in int8 mode, gives
// the inference kernel's outputs bit for bit.
TEST(OpsGradTest, FloatBitLinearQuantizesLikeInference) {
  const int64_t rows = 6, n_in = 40, n_out = 9;
  const auto latent_d = random_values(n_out * n_in, 0.05, 20);
  const auto x_d = random_values(rows * n_in, 3.0, 21);
  const std::vector<float> latent(latent_d.begin(), latent_d.end()), x(x_d.begin(), x_d.end());

  std::vector<int8_t> ref_codes(latent.size()), scratch(std::max(latent.size(), x.size()));
  const float ref_beta = ref::ternary_quantize(latent.data(), n_out * n_in, ref_codes.data());
  std::vector<float> codes(latent.size());
  BitLinearWeight<float> w;
  w.scale = ternary_quantize_weight(codes.data(), latent.data(), n_out * n_in, scratch.data());
  w.values = codes.data();
  w.n_out = n_out;
  w.n_in = n_in;
  EXPECT_EQ(w.scale, ref_beta);
  for (size_t i = 0; i < codes.size(); ++i) EXPECT_EQ(codes[i], static_cast<float>(ref_codes[i]));

  std::vector<float> saved = x, xq(x.size()), gamma(rows), y(rows * n_out);
  int8_quantize_activations(saved.data(), xq.data(), gamma.data(), saved.data(), rows, n_in,
                            scratch.data());
  bit_linear_forward(y.data(), xq.data(), gamma.data(), w, rows);
  std::vector<float> y_ref(n_out);
  std::vector<int8_t> row_scratch(n_in);
  for (int64_t r = 0; r < rows; ++r) {
    ref::bit_linear_row_i8(x.data() + r * n_in, ref_codes.data(), ref_beta, n_out, n_in,
                           row_scratch.data(), y_ref.data());
    for (int64_t o = 0; o < n_out; ++o) EXPECT_EQ(y[r * n_out + o], y_ref[o]) << r << "," << o;
  }
}

}  // namespace
}  // namespace bit_ttt
