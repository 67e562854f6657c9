// Loss values and gradients on tiny inputs computed by hand (the arithmetic is in the
// comments). The conventions are torch.nn.functional's: weighted mean for
// cross_entropy, mean over elements for the others, PyTorch's beta for smooth L1.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "autograd/ops.h"

using namespace dl;
namespace tt = boost::test_tools;

namespace {

const float kLn2 = std::log(2.0f), kLn3 = std::log(3.0f), kLn6 = std::log(6.0f);

// Both rows are [0, ln 2, ln 3]: softmax = [1, 2, 3] / 6.
// Row 0 has target 2 -> loss -ln(3/6) = ln 2; row 1 has target 0 -> -ln(1/6) = ln 6.
Var two_rows() {
  return Var(Tensor({2, 3}, {0.0f, kLn2, kLn3, 0.0f, kLn2, kLn3}), true);
}
const Tensor kTargets({2}, {2, 0});

}  // namespace

BOOST_AUTO_TEST_SUITE(losses)

BOOST_AUTO_TEST_CASE(cross_entropy_reductions) {
  Var x = two_rows();
  BOOST_TEST(ag::cross_entropy(x, kTargets).item() == (kLn2 + kLn6) / 2, tt::tolerance(1e-5f));
  BOOST_TEST(ag::cross_entropy(x, kTargets, Tensor(), -100, ag::Reduction::Sum).item() ==
                 kLn2 + kLn6,
             tt::tolerance(1e-5f));
  Tensor none = ag::cross_entropy(x, kTargets, Tensor(), -100, ag::Reduction::None).value();
  BOOST_TEST(none.shape() == Shape({2}));
  BOOST_TEST(none[0] == kLn2, tt::tolerance(1e-5f));
  BOOST_TEST(none[1] == kLn6, tt::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(cross_entropy_gradient_is_softmax_minus_onehot) {
  // Mean over 2 rows: row 0 -> ([1/6, 2/6, 3/6] - [0, 0, 1]) / 2 = [1/12, 1/6, -1/4].
  Var x = two_rows();
  ag::cross_entropy(x, kTargets).backward();
  const std::vector<float> want{1.0f / 12, 1.0f / 6, -0.25f, (1.0f / 6 - 1) / 2, 1.0f / 6, 0.25f};
  for (int i = 0; i < 6; ++i) BOOST_TEST(x.grad()[i] == want[i], tt::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(cross_entropy_class_weights_use_the_weighted_mean) {
  // w = [2, 1, 0.5]: row 0 (class 2) weighs 0.5, row 1 (class 0) weighs 2.
  // Weighted mean = (0.5 ln 2 + 2 ln 6) / (0.5 + 2) = 1.572037.
  Var x = two_rows();
  Tensor w({3}, {2.0f, 1.0f, 0.5f});
  Var loss = ag::cross_entropy(x, kTargets, w);
  BOOST_TEST(loss.item() == 1.572037f, tt::tolerance(1e-5f));
  BOOST_TEST(ag::cross_entropy(x, kTargets, w, -100, ag::Reduction::Sum).item() ==
                 0.5f * kLn2 + 2 * kLn6,
             tt::tolerance(1e-5f));
  // Gradient: w_t (softmax - onehot) / 2.5. Row 0: 0.2 * [1/6, 1/3, -1/2]; row 1:
  // 0.8 * [-5/6, 1/3, 1/2].
  loss.backward();
  const std::vector<float> want{1.0f / 30, 1.0f / 15, -0.1f, -2.0f / 3, 0.8f / 3, 0.4f};
  for (int i = 0; i < 6; ++i) BOOST_TEST(x.grad()[i] == want[i], tt::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(cross_entropy_ignore_index) {
  Var x = two_rows();
  // Row 1 ignored: the mean is over row 0 only -> ln 2, and row 1 gets no gradient.
  Var loss = ag::cross_entropy(x, Tensor({2}, {2, -100}));
  BOOST_TEST(loss.item() == kLn2, tt::tolerance(1e-5f));
  loss.backward();
  for (int i = 3; i < 6; ++i) BOOST_TEST(x.grad()[i] == 0.0f);
  // ignore_index may name a real class: targets equal to 2 are skipped, and the
  // weighted mean divides by row 1's weight alone: 2 ln 6 / 2 = ln 6.
  Tensor w({3}, {2.0f, 1.0f, 0.5f});
  BOOST_TEST(ag::cross_entropy(x, kTargets, w, 2).item() == kLn6, tt::tolerance(1e-5f));
  Tensor none = ag::cross_entropy(x, kTargets, w, 2, ag::Reduction::None).value();
  BOOST_TEST(none[0] == 0.0f);
  BOOST_TEST(none[1] == 2 * kLn6, tt::tolerance(1e-5f));
  // Everything ignored: 0 / 0, NaN as in PyTorch.
  BOOST_TEST(std::isnan(ag::cross_entropy(x, Tensor({2}, {-100, -100})).item()));
}

BOOST_AUTO_TEST_CASE(cross_entropy_spatial_input) {
  // [N=1, C=3, d=2]: position 0 has logits (0, ln 2, ln 3), position 1 (ln 3, ln 2, 0).
  // Targets (2, 2): -ln(3/6) = ln 2 and -ln(1/6) = ln 6.
  Var x(Tensor({1, 3, 2}, {0.0f, kLn3, kLn2, kLn2, kLn3, 0.0f}), true);
  Tensor t({1, 2}, {2, 2});
  BOOST_TEST(ag::cross_entropy(x, t).item() == (kLn2 + kLn6) / 2, tt::tolerance(1e-5f));
  Tensor none = ag::cross_entropy(x, t, Tensor(), -100, ag::Reduction::None).value();
  BOOST_TEST(none.shape() == Shape({1, 2}));
  BOOST_TEST(none[1] == kLn6, tt::tolerance(1e-5f));
  // The same numbers as the [N, C] layout after moving C last.
  Var flat(Tensor({2, 3}, {0.0f, kLn2, kLn3, kLn3, kLn2, 0.0f}), true);
  ag::cross_entropy(x, t).backward();
  ag::cross_entropy(flat, Tensor({2}, {2, 2})).backward();
  BOOST_TEST(max_abs_diff(transpose(x.grad().reshape({3, 2}), 0, 1), flat.grad()) < 1e-6f);
}

BOOST_AUTO_TEST_CASE(cross_entropy_matches_torch_on_spatial_weighted_ignored) {
  // Golden values from PyTorch 1.13 in float64:
  //   F.cross_entropy(x, t, weight=w, ignore_index=-1) and its x.grad.
  Var x(Tensor({2, 3, 2}, {0.5f, -1.0f, 2.0f, 0.0f, -0.5f, 1.5f, 1.0f, 0.25f, -2.0f, 0.5f, 0.0f,
                           -1.0f}),
        true);
  Tensor t({2, 2}, {2, -1, 0, 1});
  Tensor w({3}, {0.5f, 2.0f, 1.5f});
  Var loss = ag::cross_entropy(x, t, w, -1);
  BOOST_TEST(loss.item() == 1.4280706f, tt::tolerance(1e-6f));
  loss.backward();
  const std::vector<float> want{0.0641073f,  0.0f, 0.287309f,  0.0f,       -0.3514162f, 0.0f,
                                -0.0368269f, 0.1945124f, 0.0043899f, -0.2502411f, 0.0324371f,
                                0.0557287f};
  for (int i = 0; i < 12; ++i) BOOST_TEST(x.grad()[i] == want[i], tt::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(cross_entropy_is_stable_for_large_logits) {
  // log softmax([1000, 0])[1] = -1000 exactly, no inf or NaN.
  Var x(Tensor({1, 2}, {1000.0f, 0.0f}));
  BOOST_TEST(ag::cross_entropy(x, Tensor({1}, {1})).item() == 1000.0f);
  BOOST_TEST(ag::cross_entropy(x, Tensor({1}, {0})).item() == 0.0f);
}

BOOST_AUTO_TEST_CASE(bce_with_logits) {
  // sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4.
  // x=0, t=1: -ln(1/2) = ln 2;  x=ln 3, t=0: -ln(1/4) = 2 ln 2.
  Var x(Tensor({2}, {0.0f, kLn3}), true);
  Tensor t({2}, {1.0f, 0.0f});
  BOOST_TEST(ag::binary_cross_entropy_with_logits(x, t).item() == 1.5f * kLn2,
             tt::tolerance(1e-5f));
  // x=ln 3, t=1: -ln(3/4); a soft target 0.5 at x=0 is still ln 2.
  Tensor none = ag::binary_cross_entropy_with_logits(x, Tensor({2}, {0.5f, 1.0f}), Tensor(),
                                                     ag::Reduction::None)
                    .value();
  BOOST_TEST(none[0] == kLn2, tt::tolerance(1e-5f));
  BOOST_TEST(none[1] == -std::log(0.75f), tt::tolerance(1e-5f));
  // Weights [2, 0.5] scale each element; the mean still divides by 2 elements:
  // (2 ln 2 + 0.5 * 2 ln 2) / 2 = 1.5 ln 2. Gradient w (sigmoid - t) / 2 = [-0.5, 0.1875].
  Var loss = ag::binary_cross_entropy_with_logits(x, t, Tensor({2}, {2.0f, 0.5f}));
  BOOST_TEST(loss.item() == 1.5f * kLn2, tt::tolerance(1e-5f));
  loss.backward();
  BOOST_TEST(x.grad()[0] == -0.5f, tt::tolerance(1e-5f));
  BOOST_TEST(x.grad()[1] == 0.1875f, tt::tolerance(1e-5f));
  // Far in the tails the stable form gives |x| instead of inf.
  Tensor tails = ag::binary_cross_entropy_with_logits(Var(Tensor({2}, {100.0f, -100.0f})),
                                                      Tensor({2}, {0.0f, 1.0f}), Tensor(),
                                                      ag::Reduction::None)
                     .value();
  BOOST_TEST(tails[0] == 100.0f);
  BOOST_TEST(tails[1] == 100.0f);
}

BOOST_AUTO_TEST_CASE(smooth_l1_with_beta) {
  // d = [0.5, 2, -3].
  Var p(Tensor({3}, {0.5f, 2.0f, -3.0f}), true);
  Tensor z = zeros({3});
  // beta 1: [0.5 * 0.25, 2 - 0.5, 3 - 0.5] = [0.125, 1.5, 2.5], mean 1.375.
  Var loss = ag::smooth_l1(p, z);
  BOOST_TEST(loss.item() == 1.375f, tt::tolerance(1e-6f));
  // Gradient: d / beta inside, sign(d) outside, over 3 -> [0.5, 1, -1] / 3.
  loss.backward();
  BOOST_TEST(p.grad()[0] == 0.5f / 3, tt::tolerance(1e-6f));
  BOOST_TEST(p.grad()[1] == 1.0f / 3, tt::tolerance(1e-6f));
  BOOST_TEST(p.grad()[2] == -1.0f / 3, tt::tolerance(1e-6f));
  // beta 2: [0.5 * 0.25 / 2, 2 - 1, 3 - 1] = [0.0625, 1, 2] (|d| = beta is outside).
  Tensor b2 = ag::smooth_l1(p, z, 2.0f, ag::Reduction::None).value();
  BOOST_TEST(b2.to_vector() == std::vector<float>({0.0625f, 1.0f, 2.0f}));
  // beta 0 is L1: 0.5 + 2 + 3.
  BOOST_TEST(ag::smooth_l1(p, z, 0.0f, ag::Reduction::Sum).item() == 5.5f);
  p.zero_grad();
  ag::smooth_l1(p, z, 0.0f, ag::Reduction::Sum).backward();
  BOOST_TEST(p.grad().to_vector() == std::vector<float>({1.0f, 1.0f, -1.0f}));
}

BOOST_AUTO_TEST_CASE(mse_values_and_gradient) {
  // pred - target = [1, 2, -2]: squares [1, 4, 4], mean 3, sum 9; gradient 2 d / 3.
  Var p(Tensor({3}, {1.0f, 2.0f, 3.0f}), true);
  Tensor t({3}, {0.0f, 0.0f, 5.0f});
  Var loss = ag::mse(p, t);
  BOOST_TEST(loss.item() == 3.0f);
  BOOST_TEST(ag::mse(p, t, ag::Reduction::Sum).item() == 9.0f);
  BOOST_TEST(ag::mse(p, t, ag::Reduction::None).value().to_vector() ==
             std::vector<float>({1.0f, 4.0f, 4.0f}));
  loss.backward();
  BOOST_TEST(p.grad()[0] == 2.0f / 3, tt::tolerance(1e-6f));
  BOOST_TEST(p.grad()[1] == 4.0f / 3, tt::tolerance(1e-6f));
  BOOST_TEST(p.grad()[2] == -4.0f / 3, tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_SUITE_END()
