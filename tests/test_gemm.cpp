// The packed GEMM against the three-loop reference (gemm_reference), its thread-count
// independence, and matmul/bmm on top of it.
#include <boost/test/unit_test.hpp>

#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tensor/gemm.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

using namespace dl;

namespace {

std::vector<float> random_vec(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
  int64_t pad;  // extra columns in every leading dimension
};

// Runs gemm and gemm_reference on the same data; returns the max error relative to
// sqrt(K) * (|alpha| + |beta|) (the entries are in [-1, 1]).
double max_rel_error(const Case& c, uint64_t seed) {
  const int64_t a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
  const int64_t b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
  const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.N + c.pad;
  auto A = random_vec(a_rows * lda, seed);
  auto B = random_vec(b_rows * ldb, seed + 1);
  auto C0 = random_vec(c.M * ldc, seed + 2);
  auto C1 = C0;
  gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, C0.data(),
       ldc);
  gemm_reference(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta,
                 C1.data(), ldc);
  const double scale =
      std::sqrt(static_cast<double>(std::max<int64_t>(c.K, 1))) * (std::fabs(c.alpha) + std::fabs(c.beta));
  double worst = 0.0;
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const double d = std::fabs(static_cast<double>(C0[i * ldc + j]) - C1[i * ldc + j]);
      if (j >= c.N && d != 0.0) return 1e9;  // padding columns must be untouched
      worst = std::max(worst, d / scale);
    }
  return worst;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gemm_suite)

BOOST_AUTO_TEST_CASE(matches_reference_over_many_shapes) {
  const int64_t shapes[][3] = {{1, 1, 1},    {1, 1, 7},     {7, 1, 1},    {1, 9, 1},
                               {6, 16, 8},   {5, 15, 3},    {7, 17, 9},   {13, 33, 31},
                               {64, 64, 64}, {97, 101, 67}, {1, 300, 70}, {300, 1, 70},
                               {200, 3, 50}, {3, 200, 50},  {40, 50, 600}, {100, 130, 257},
                               {2, 3000, 20}, {130, 3100, 9},
                               // past the small-problem path: M, N or K of 1, many KC slices
                               {1, 2000, 70}, {2000, 1, 70}, {1, 1, 40000}, {3, 5, 3000}};
  uint64_t seed = 1;
  for (const auto& s : shapes)
    for (int t = 0; t < 4; ++t) {
      Case c{(t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 1.0f, 0.0f, 0};
      const double e = max_rel_error(c, seed++);
      BOOST_TEST_INFO("M=" << c.M << " N=" << c.N << " K=" << c.K << " ta=" << c.ta
                           << " tb=" << c.tb);
      BOOST_TEST(e < 1e-6);
    }
}

BOOST_AUTO_TEST_CASE(alpha_beta_and_leading_dimensions) {
  const float ab[][2] = {{1.0f, 1.0f}, {-0.5f, 2.0f}, {2.0f, -1.0f}, {0.0f, 0.5f}, {3.0f, 0.0f}};
  uint64_t seed = 100;
  for (const auto& p : ab)
    for (int t = 0; t < 4; ++t)
      for (int64_t pad : {0, 3}) {
        for (const auto& s : {std::vector<int64_t>{5, 7, 11}, std::vector<int64_t>{70, 90, 300}}) {
          Case c{(t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], p[0], p[1], pad};
          const double e = max_rel_error(c, seed++);
          BOOST_TEST_INFO("alpha=" << c.alpha << " beta=" << c.beta << " pad=" << pad
                                   << " M=" << c.M << " t=" << t);
          BOOST_TEST(e < 1e-6);
        }
      }
}

BOOST_AUTO_TEST_CASE(beta_zero_ignores_nan_in_c) {
  for (int64_t n : {4, 50}) {
    auto A = random_vec(n * n, 7), B = random_vec(n * n, 8);
    std::vector<float> C(static_cast<size_t>(n * n), std::numeric_limits<float>::quiet_NaN());
    std::vector<float> R(C.size(), 0.0f);
    gemm(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n);
    gemm_reference(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, R.data(), n);
    for (size_t i = 0; i < C.size(); ++i) {
      BOOST_TEST(!std::isnan(C[i]));
      BOOST_TEST(std::fabs(C[i] - R[i]) < 1e-4);
    }
  }
}

BOOST_AUTO_TEST_CASE(k_zero_scales_c_by_beta) {
  std::vector<float> C = {1, 2, 3, 4, 5, 6};
  const float dummy = 0.0f;
  gemm(false, false, 2, 3, 0, 1.0f, &dummy, 1, &dummy, 3, 0.5f, C.data(), 3);
  BOOST_TEST(C == std::vector<float>({0.5f, 1, 1.5f, 2, 2.5f, 3}), boost::test_tools::per_element());
  C[2] = std::numeric_limits<float>::quiet_NaN();
  gemm(false, false, 2, 3, 0, 1.0f, &dummy, 1, &dummy, 3, 0.0f, C.data(), 3);
  BOOST_TEST(C == std::vector<float>(6, 0.0f), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hand_computed_2x2) {
  // [1 2; 3 4] * [5 6; 7 8] = [19 22; 43 50]; with A^T: [1 3; 2 4] * B = [26 30; 38 44]
  const float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8};
  float C[4];
  gemm(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
  BOOST_TEST(std::vector<float>(C, C + 4) == std::vector<float>({19, 22, 43, 50}),
             boost::test_tools::per_element());
  gemm(true, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
  BOOST_TEST(std::vector<float>(C, C + 4) == std::vector<float>({26, 30, 38, 44}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bit_identical_for_one_and_two_threads) {
  const int64_t M = 300, N = 257, K = 511;
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    auto A = random_vec(M * K, 11), B = random_vec(K * N, 12);
    auto C1 = random_vec(M * N, 13);
    auto C2 = C1;
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    gemm(ta, tb, M, N, K, 0.7f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.3f, C1.data(), N);
    omp_set_num_threads(2);
    gemm(ta, tb, M, N, K, 0.7f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.3f, C2.data(), N);
    omp_set_num_threads(saved);
    BOOST_TEST_INFO("ta=" << ta << " tb=" << tb);
    BOOST_TEST(C1 == C2);
  }
}

BOOST_AUTO_TEST_CASE(matmul_and_bmm_through_ops) {
  Tensor a({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b({3, 2}, {7, 8, 9, 10, 11, 12});
  BOOST_TEST(matmul(a, b).to_vector() == std::vector<float>({58, 64, 139, 154}),
             boost::test_tools::per_element());
  // a^T (3x2) x a (2x3)
  BOOST_TEST(matmul(a, a, true, false).to_vector() ==
                 std::vector<float>({17, 22, 27, 22, 29, 36, 27, 36, 45}),
             boost::test_tools::per_element());
  BOOST_CHECK_THROW(matmul(a, a), ShapeError);
  Tensor x({2, 2, 3}, {1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0});
  Tensor y = bmm(x, b);
  BOOST_TEST(y.shape() == Shape({2, 2, 2}));
  BOOST_TEST(y.to_vector() == std::vector<float>({58, 64, 139, 154, 7, 8, 9, 10}),
             boost::test_tools::per_element());
  // A larger matmul agrees with the reference.
  const int64_t M = 70, K = 90, N = 110;
  auto av = random_vec(M * K, 21), bv = random_vec(K * N, 22);
  Tensor ta({M, K}, av), tb({K, N}, bv);
  std::vector<float> ref(static_cast<size_t>(M * N));
  gemm_reference(false, false, M, N, K, 1.0f, av.data(), K, bv.data(), N, 0.0f, ref.data(), N);
  auto got = matmul(ta, tb).to_vector();
  for (size_t i = 0; i < ref.size(); ++i) BOOST_TEST(std::fabs(got[i] - ref[i]) < 1e-4);
}

BOOST_AUTO_TEST_SUITE_END()
