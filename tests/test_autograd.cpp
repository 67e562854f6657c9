// Gradient checks of every differentiable op outside conv/pool (finite differences,
// src/autograd/gradcheck.h), the tape's behaviour, and the ops' error messages.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"

using namespace dl;
using Fn = std::function<Var(const std::vector<Var>&)>;

namespace {

Var param(const Shape& s, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  return Var(uniform(s, lo, hi, rng), true);
}

// Values at least 0.2 away from zero: kinks (relu, abs, sign) stay out of reach of
// the finite-difference step.
Var param_away_from_zero(const Shape& s, Rng& rng) {
  Tensor t = uniform(s, 0.2f, 1.2f, rng);
  for (float& v : t)
    if (rng.bernoulli(0.5f)) v = -v;
  return Var(t, true);
}

// Distinct values 0.1 apart in shuffled order: max has a unique winner everywhere.
Var param_distinct(const Shape& s, Rng& rng) {
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = 0.1f * static_cast<float>(i) - 1.0f;
  for (int64_t i = t.numel() - 1; i > 0; --i)
    std::swap(t[i], t[static_cast<int64_t>(rng.below(static_cast<uint32_t>(i + 1)))]);
  return Var(t, true);
}

void check(const Fn& f, const std::vector<Var>& inputs, float eps = 1e-2f, float tol = 1e-2f) {
  GradcheckResult r = gradcheck(f, inputs, eps, tol, tol);
  BOOST_TEST(r.ok, r.detail << " (max abs err " << r.max_abs_err << ")");
}

// fn must throw a ShapeError whose message names op.
template <class F>
void expect_shape_error(F fn, const std::string& op) {
  try {
    fn();
    BOOST_ERROR("expected a ShapeError from " << op);
  } catch (const ShapeError& e) {
    BOOST_TEST(std::string(e.what()).find(op) != std::string::npos,
               "message '" << e.what() << "' does not name " << op);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(autograd_gradcheck)

BOOST_AUTO_TEST_CASE(elementwise_binary_with_broadcasting) {
  Rng rng(1);
  Var a = param({2, 3}, rng), b = param({3}, rng), c = param({2, 1}, rng);
  Var pos = param({2, 3}, rng, 0.5f, 2.0f), pos_row = param({1, 3}, rng, 0.5f, 2.0f);
  check([](auto& x) { return ag::add(x[0], x[1]); }, {a, b});
  check([](auto& x) { return ag::add(x[0], x[1]); }, {c, a});
  check([](auto& x) { return ag::sub(x[0], x[1]); }, {a, b});
  check([](auto& x) { return ag::sub(x[0], x[1]); }, {c, b});
  check([](auto& x) { return ag::mul(x[0], x[1]); }, {a, b});
  check([](auto& x) { return ag::mul(x[0], x[1]); }, {c, a});
  check([](auto& x) { return ag::div(x[0], x[1]); }, {a, pos});
  check([](auto& x) { return ag::div(x[0], x[1]); }, {a, pos_row});
  check([](auto& x) { return ag::div(x[0], x[1]); }, {b, pos});
  // A 0-d tensor broadcasts against everything and gets the summed gradient.
  Var scalar(Tensor(Shape{}, 0.7f), true);
  check([](auto& x) { return ag::mul(x[0], x[1]); }, {a, scalar});
  check([](auto& x) { return ag::sub(x[0], x[1]); }, {scalar, a});
  check([](auto& x) { return ag::div(x[0], x[1]); }, {a, scalar});
}

BOOST_AUTO_TEST_CASE(elementwise_unary_and_scalar) {
  Rng rng(2);
  Var a = param({2, 3}, rng);
  Var pos = param({2, 3}, rng, 0.5f, 2.0f);
  check([](auto& x) { return ag::add(x[0], 2.5f); }, {a});
  check([](auto& x) { return ag::mul(x[0], -1.5f); }, {a});
  check([](auto& x) { return ag::neg(x[0]); }, {a});
  check([](auto& x) { return ag::exp(x[0]); }, {a});
  check([](auto& x) { return ag::log(x[0]); }, {pos});
  check([](auto& x) { return ag::sqrt(x[0]); }, {pos});
  check([](auto& x) { return ag::pow(x[0], 3.0f); }, {a});
  check([](auto& x) { return ag::pow(x[0], 2.0f); }, {a});
  check([](auto& x) { return ag::pow(x[0], 0.5f); }, {pos});
  check([](auto& x) { return ag::abs(x[0]); }, {param_away_from_zero({2, 3}, rng)});
  // Values on both sides of [lo, hi] but not within the step of its ends.
  Var cl(Tensor({6}, {-0.9f, -0.3f, 0.0f, 0.2f, 0.45f, 0.8f}), true);
  check([](auto& x) { return ag::clamp(x[0], -0.4f, 0.4f); }, {cl});
  // clamp passes no gradient outside the interval.
  cl.zero_grad();  // gradcheck left its weighted gradient there
  Var y = ag::sum_all(ag::clamp(cl, -0.4f, 0.4f));
  y.backward();
  BOOST_TEST(cl.grad().to_vector() == std::vector<float>({0, 1, 1, 1, 0, 0}));
}

BOOST_AUTO_TEST_CASE(reductions) {
  Rng rng(3);
  Var a = param({2, 3, 4}, rng);
  check([](auto& x) { return ag::sum(x[0], {1}); }, {a});
  check([](auto& x) { return ag::sum(x[0], {0, 2}, true); }, {a});
  check([](auto& x) { return ag::sum(x[0], {-1}); }, {a});
  check([](auto& x) { return ag::mean(x[0], {1}); }, {a});
  check([](auto& x) { return ag::mean(x[0], {0, 2}, true); }, {a});
  check([](auto& x) { return ag::sum_all(x[0]); }, {a});
  check([](auto& x) { return ag::mean_all(x[0]); }, {a});
  Var d = param_distinct({3, 4, 2}, rng);
  check([](auto& x) { return ag::max(x[0], 1); }, {d});
  check([](auto& x) { return ag::max(x[0], 0, true); }, {d});
  check([](auto& x) { return ag::max(x[0], -1); }, {d});
}

BOOST_AUTO_TEST_CASE(shape_ops) {
  Rng rng(4);
  Var a = param({2, 3, 4}, rng);
  Var b = param({2, 2, 4}, rng);
  Var c = param({2, 3, 4}, rng);
  check([](auto& x) { return ag::reshape(x[0], {4, -1}); }, {a});
  check([](auto& x) { return ag::flatten(x[0]); }, {a});
  check([](auto& x) { return ag::flatten(x[0], 0); }, {a});
  check([](auto& x) { return ag::permute(x[0], {2, 0, 1}); }, {a});
  check([](auto& x) { return ag::transpose(x[0], 0, 2); }, {a});
  check([](auto& x) { return ag::slice(x[0], 1, 1, 3); }, {a});
  check([](auto& x) { return ag::slice(x[0], 2, 0, 4, 3); }, {a});
  check([](auto& x) { return ag::concat({x[0], x[1]}, 1); }, {a, b});
  check([](auto& x) { return ag::concat({x[0], x[1], x[0]}, 0); }, {a, c});  // a used twice
  check([](auto& x) { return ag::stack({x[0], x[1]}, 0); }, {a, c});
  check([](auto& x) { return ag::stack({x[0], x[1]}, 3); }, {a, c});
  Tensor idx({4}, {2, 0, 2, 1});  // a repeated index sums its gradients
  check([idx](auto& x) { return ag::index_select(x[0], 1, idx); }, {a});
  Tensor gidx({2, 2, 4}, {0, 1, 2, 0, 2, 2, 1, 0, 1, 1, 1, 1, 0, 2, 0, 2});
  check([gidx](auto& x) { return ag::gather(x[0], 1, gidx); }, {a});
  check([](auto& x) { return ag::pad2d(x[0], 1, 2, 0, 1, 0.5f); }, {a});

  // Forward spot checks: the values land where the tensor ops put them.
  Var p = ag::pad2d(Var(Tensor({1, 1}, {7.0f})), 1, 0, 0, 1, -1.0f);
  BOOST_TEST(p.value().to_vector() == std::vector<float>({-1, -1, 7, -1}));
  BOOST_TEST(ag::flatten(a).shape() == Shape({2, 12}));
}

BOOST_AUTO_TEST_CASE(matmul_bmm_linear) {
  Rng rng(5);
  Var a = param({3, 4}, rng), at = param({4, 3}, rng);
  Var b = param({4, 5}, rng), bt = param({5, 4}, rng);
  check([](auto& x) { return ag::matmul(x[0], x[1]); }, {a, b});
  check([](auto& x) { return ag::matmul(x[0], x[1], true, false); }, {at, b});
  check([](auto& x) { return ag::matmul(x[0], x[1], false, true); }, {a, bt});
  check([](auto& x) { return ag::matmul(x[0], x[1], true, true); }, {at, bt});

  Var ba = param({2, 3, 4}, rng), bat = param({2, 4, 3}, rng);
  Var bb = param({2, 4, 5}, rng), bbt = param({2, 5, 4}, rng);
  Var shared = param({4, 5}, rng), shared_t = param({5, 4}, rng);
  check([](auto& x) { return ag::bmm(x[0], x[1]); }, {ba, bb});
  check([](auto& x) { return ag::bmm(x[0], x[1], true, false); }, {bat, bb});
  check([](auto& x) { return ag::bmm(x[0], x[1], false, true); }, {ba, bbt});
  check([](auto& x) { return ag::bmm(x[0], x[1], true, true); }, {bat, bbt});
  check([](auto& x) { return ag::bmm(x[0], x[1]); }, {ba, shared});
  check([](auto& x) { return ag::bmm(x[0], x[1], true, true); }, {bat, shared_t});

  Var x = param({3, 4}, rng), w = param({5, 4}, rng), bias = param({5}, rng);
  check([](auto& v) { return ag::linear(v[0], v[1], v[2]); }, {x, w, bias});
  check([](auto& v) { return ag::linear(v[0], v[1], Var()); }, {x, w});
  // linear == x W^T + b computed the long way.
  Tensor ref = add(matmul(x.value(), transpose(w.value(), 0, 1)), bias.value());
  BOOST_TEST(max_abs_diff(ag::linear(x, w, bias).value(), ref) < 1e-6f);
}

BOOST_AUTO_TEST_CASE(activations) {
  Rng rng(6);
  Var a = param_away_from_zero({3, 4}, rng);
  Var wide = param({2, 3, 4}, rng, -3.0f, 3.0f);
  check([](auto& x) { return ag::relu(x[0]); }, {a});
  check([](auto& x) { return ag::leaky_relu(x[0], 0.1f); }, {a});
  // ReLU6 away from its two kinks (0 and 6), where finite differences are exact.
  Var r6(Tensor({2, 3}, {-1.5f, 0.4f, 2.5f, 5.5f, 6.7f, 9.0f}), true);
  check([](auto& x) { return ag::relu6(x[0]); }, {r6});
  BOOST_TEST(ag::relu6(r6).value().to_vector() == std::vector<float>({0, 0.4f, 2.5f, 5.5f, 6, 6}),
             boost::test_tools::per_element());
  check([](auto& x) { return ag::sigmoid(x[0]); }, {wide});
  check([](auto& x) { return ag::tanh(x[0]); }, {wide});
  check([](auto& x) { return ag::softmax(x[0], 1); }, {wide});
  check([](auto& x) { return ag::softmax(x[0], -1); }, {wide});
  check([](auto& x) { return ag::log_softmax(x[0], 1); }, {wide});
  check([](auto& x) { return ag::log_softmax(x[0], 0); }, {wide});

  // softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6; the shift by 1000 must not overflow.
  Var s(Tensor({2, 3}, {0.0f, std::log(2.0f), std::log(3.0f), 1000.0f, 1000.0f + std::log(2.0f),
                        1000.0f + std::log(3.0f)}));
  Tensor sm = ag::softmax(s, 1).value();
  for (int r = 0; r < 2; ++r) {
    BOOST_TEST(sm.at({r, 0}) == 1.0f / 6.0f, boost::test_tools::tolerance(1e-4f));
    BOOST_TEST(sm.at({r, 2}) == 0.5f, boost::test_tools::tolerance(1e-4f));
  }
  Tensor ls = ag::log_softmax(s, 1).value();
  BOOST_TEST(ls.at({1, 2}) == std::log(0.5f), boost::test_tools::tolerance(1e-3f));
  Tensor sg = ag::sigmoid(Var(Tensor({3}, {-100.0f, 0.0f, 100.0f}))).value();
  BOOST_TEST(sg[0] < 1e-30f);  // exp(-100), no overflow or NaN on either side
  BOOST_TEST(sg[1] == 0.5f);
  BOOST_TEST(sg[2] == 1.0f);
  BOOST_TEST(ag::leaky_relu(Var(Tensor({2}, {-2.0f, 3.0f})), 0.25f).value().to_vector() ==
             std::vector<float>({-0.5f, 3.0f}));
}

BOOST_AUTO_TEST_CASE(dropout) {
  Rng rng(7);
  Var a = param({4, 5}, rng);
  check([](auto& x) {
    Rng r(11);  // same mask in every evaluation
    return ag::dropout(x[0], 0.3f, true, r);
  }, {a});
  // Kept values are scaled by 1/(1-p), dropped ones are zero; eval is the identity.
  Rng r1(11), r2(11);
  Var ones_v(ones({1000}));
  Tensor d = ag::dropout(ones_v, 0.25f, true, r1).value();
  int zeros_n = 0;
  for (int64_t i = 0; i < d.numel(); ++i) {
    const bool dropped = r2.bernoulli(0.25f);  // the same sequential draws
    BOOST_TEST(d[i] == (dropped ? 0.0f : 1.0f / 0.75f));
    zeros_n += d[i] == 0.0f;
  }
  BOOST_TEST(zeros_n > 200);
  BOOST_TEST(zeros_n < 300);
  Rng r3(1);
  BOOST_TEST(ag::dropout(a, 0.5f, false, r3).value().to_vector() == a.value().to_vector());
  BOOST_TEST(ag::dropout(a, 1.0f, true, r3).value().to_vector() ==
             std::vector<float>(20, 0.0f));
}

BOOST_AUTO_TEST_CASE(losses) {
  Rng rng(8);
  Var logits = param({4, 3}, rng, -2.0f, 2.0f);
  Tensor target({4}, {0, 2, 1, 2});
  Tensor weight({3}, {0.5f, 2.0f, 1.0f});
  check([&](auto& x) { return ag::cross_entropy(x[0], target); }, {logits});
  check([&](auto& x) { return ag::cross_entropy(x[0], target, weight, 2); }, {logits});
  check([&](auto& x) {
    return ag::cross_entropy(x[0], target, weight, -100, ag::Reduction::None);
  }, {logits});
  check([&](auto& x) {
    return ag::cross_entropy(x[0], target, Tensor(), -100, ag::Reduction::Sum);
  }, {logits});
  Var dense = param({2, 3, 2, 2}, rng, -2.0f, 2.0f);
  Tensor dense_t({2, 2, 2}, {0, 1, 2, -1, 2, 2, 0, 1});
  check([&](auto& x) { return ag::cross_entropy(x[0], dense_t, weight, -1); }, {dense});

  Var z = param({3, 2}, rng, -3.0f, 3.0f);
  Tensor zt({3, 2}, {1, 0, 0.3f, 1, 0, 0.8f});
  Tensor zw({2}, {1.0f, 3.0f});
  check([&](auto& x) { return ag::binary_cross_entropy_with_logits(x[0], zt); }, {z});
  check([&](auto& x) {
    return ag::binary_cross_entropy_with_logits(x[0], zt, zw, ag::Reduction::None);
  }, {z});

  // Differences kept away from the |d| = beta seam and from 0.
  Var p(Tensor({2, 3}, {0.1f, -0.3f, 2.0f, -1.7f, 0.7f, 0.25f}), true);
  Tensor pt({2, 3}, {0.4f, 0.0f, 0.5f, 0.0f, 0.0f, 1.0f});
  check([&](auto& x) { return ag::smooth_l1(x[0], pt); }, {p});
  check([&](auto& x) { return ag::smooth_l1(x[0], pt, 0.5f, ag::Reduction::Sum); }, {p});
  check([&](auto& x) { return ag::smooth_l1(x[0], pt, 0.0f, ag::Reduction::None); }, {p});
  check([&](auto& x) { return ag::mse(x[0], pt); }, {p});
  check([&](auto& x) { return ag::mse(x[0], pt, ag::Reduction::None); }, {p});
}

BOOST_AUTO_TEST_CASE(batch_norm_train_and_eval) {
  Rng rng(9);
  Var x = param({3, 2, 2, 2}, rng, -2.0f, 2.0f);
  Var gamma = param({2}, rng, 0.5f, 1.5f), beta = param({2}, rng);
  Tensor rm = zeros({2}), rv = ones({2});
  check([&](auto& v) { return ag::batch_norm(v[0], v[1], v[2], rm, rv, true); },
        {x, gamma, beta});
  Var x2 = param({5, 3}, rng, -2.0f, 2.0f);
  Var g2 = param({3}, rng, 0.5f, 1.5f), b2 = param({3}, rng);
  Tensor rm2 = zeros({3}), rv2 = ones({3});
  check([&](auto& v) { return ag::batch_norm(v[0], v[1], v[2], rm2, rv2, true); }, {x2, g2, b2});
  check([&](auto& v) { return ag::batch_norm(v[0], Var(), Var(), rm2, rv2, true); }, {x2});
  Tensor erm({2}, {0.3f, -0.2f}), erv({2}, {0.5f, 2.0f});
  check([&](auto& v) { return ag::batch_norm(v[0], v[1], v[2], erm, erv, false); },
        {x, gamma, beta});
  // Eval leaves the running statistics alone.
  BOOST_TEST(erm.to_vector() == std::vector<float>({0.3f, -0.2f}));
  BOOST_TEST(erv.to_vector() == std::vector<float>({0.5f, 2.0f}));
}

BOOST_AUTO_TEST_CASE(batch_norm_values_and_running_stats) {
  // One channel {1, 2, 3, 4}: mean 2.5, biased variance 1.25, unbiased 5/3.
  Var x(Tensor({4, 1}, {1, 2, 3, 4}));
  Var gamma(Tensor({1}, {2.0f})), beta(Tensor({1}, {0.5f}));
  Tensor rm({1}, {0.0f}), rv({1}, {1.0f});
  Tensor y = ag::batch_norm(x, gamma, beta, rm, rv, true, 0.1f, 1e-5f).value();
  const float inv = 1.0f / std::sqrt(1.25f + 1e-5f);
  BOOST_TEST(y[0] == 2.0f * -1.5f * inv + 0.5f, boost::test_tools::tolerance(1e-5f));
  BOOST_TEST(y[3] == 2.0f * 1.5f * inv + 0.5f, boost::test_tools::tolerance(1e-5f));
  BOOST_TEST(rm[0] == 0.25f, boost::test_tools::tolerance(1e-6f));               // 0.9*0 + 0.1*2.5
  BOOST_TEST(rv[0] == 0.9f + 0.1f * 5.0f / 3.0f, boost::test_tools::tolerance(1e-6f));
  // Eval: (x - 0.25) / sqrt(rv + eps) * 2 + 0.5.
  Tensor ye = ag::batch_norm(x, gamma, beta, rm, rv, false).value();
  BOOST_TEST(ye[1] == (2.0f - 0.25f) / std::sqrt(rv[0] + 1e-5f) * 2.0f + 0.5f,
             boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(batch_norm_matches_torch) {
  // Golden values from PyTorch 1.13 in float64: y = F.batch_norm(x, rm, rv, g, b,
  // training=True) on x [2, 2, 2], then (y * r).sum().backward().
  Var x(Tensor({2, 2, 2}, {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, -2.0f, 1.5f, 0.0f}), true);
  Var g(Tensor({2}, {1.5f, 0.5f}), true), b(Tensor({2}, {0.1f, -0.2f}), true);
  Tensor rm = zeros({2}), rv = ones({2});
  Var y = ag::batch_norm(x, g, b, rm, rv, true);
  Tensor r({2, 2, 2}, {1.0f, -1.0f, 0.5f, 2.0f, 0.0f, 1.0f, -1.5f, 0.5f});
  y.backward(r);
  auto close = [](const Tensor& t, const std::vector<float>& want) {
    for (size_t i = 0; i < want.size(); ++i)
      BOOST_TEST(t[static_cast<int64_t>(i)] == want[i], boost::test_tools::tolerance(1e-5f));
  };
  close(y.value(), {0.1f, 0.9017826f, -0.0613258f, -0.893371f, 1.7035652f, -2.3053477f,
                    0.493371f, -0.3386742f});
  close(x.grad(), {0.6013369f, -0.7731481f, 0.2560116f, -0.0319902f, 0.2577145f, -0.0859033f,
                   -0.1066839f, -0.1173374f});
  close(g.grad(), {-2.1380869f, -4.8535968f});
  close(b.grad(), {1.0f, 1.5f});
  close(rm, {0.1f, 0.025f});
  close(rv, {1.3666667f, 1.0083333f});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(autograd_tape)

BOOST_AUTO_TEST_CASE(gradients_accumulate_across_backward_calls) {
  Var x(Tensor({3}, {1, 2, 3}), true);
  Var y = ag::sum_all(ag::mul(x, x));  // dy/dx = 2x
  y.backward();
  BOOST_TEST(x.grad().to_vector() == std::vector<float>({2, 4, 6}));
  y.backward();
  BOOST_TEST(x.grad().to_vector() == std::vector<float>({4, 8, 12}));
  x.zero_grad();
  BOOST_TEST(!x.grad().defined());
}

// A fresh gradient that nothing else holds becomes the node's grad without a copy; one
// that is still held elsewhere (a view, another tensor) is copied, so later in-place
// accumulation into the grad can never write through to it.
BOOST_AUTO_TEST_CASE(accumulate_grad_takes_over_only_unshared_storage) {
  auto leaf = [] {
    Node n;
    n.value = Tensor({2, 3});
    n.requires_grad = true;
    return n;
  };
  Node a = leaf();
  Tensor fresh({2, 3}, 1.5f);
  const float* storage = fresh.data();
  accumulate_grad(a, std::move(fresh));
  BOOST_TEST(a.grad.data() == storage);  // taken over
  accumulate_grad(a, Tensor({2, 3}, 1.0f));  // second flow: added in place
  BOOST_TEST(a.grad.data() == storage);
  BOOST_TEST(a.grad.to_vector() == std::vector<float>(6, 2.5f));

  Node b = leaf();
  Tensor held({3, 2}, 2.0f);
  Tensor view = held.reshape({2, 3});  // two handles on one storage
  accumulate_grad(b, std::move(view));
  BOOST_TEST(!b.grad.shares_storage(held));
  accumulate_grad(b, Tensor({2, 3}, 1.0f));
  BOOST_TEST(held.to_vector() == std::vector<float>(6, 2.0f));  // untouched
  BOOST_TEST(b.grad.to_vector() == std::vector<float>(6, 3.0f));

  Node c = leaf();  // the shape check still applies to a taken-over gradient
  BOOST_CHECK_THROW(accumulate_grad(c, Tensor({3, 2})), ShapeError);
  Node d;  // a node that needs no gradient ignores it
  d.value = Tensor({1});
  accumulate_grad(d, Tensor({1}, 1.0f));
  BOOST_TEST(!d.grad.defined());
}

BOOST_AUTO_TEST_CASE(diamond_graph_sums_both_paths) {
  // a = 3x feeds both factors of a*a and the sum: d/dx (a^2 + a) = (2a + 1) * 3.
  Var x(Tensor({2}, {1.0f, -2.0f}), true);
  Var a = ag::mul(x, 3.0f);
  Var y = ag::sum_all(ag::add(ag::mul(a, a), a));
  y.backward();
  BOOST_TEST(x.grad().to_vector() == std::vector<float>({21.0f, -33.0f}));
}

BOOST_AUTO_TEST_CASE(no_grad_guard_builds_no_graph) {
  Var x(Tensor({2}, {1, 2}), true);
  {
    NoGradGuard guard;
    BOOST_TEST(!grad_enabled());
    Var y = ag::relu(ag::mul(x, x));
    BOOST_TEST(!y.requires_grad());
    BOOST_TEST(y.node()->inputs.empty());
    BOOST_TEST(!y.node()->backward);
    BOOST_TEST(y.value().to_vector() == std::vector<float>({1, 4}));
  }
  BOOST_TEST(grad_enabled());
  BOOST_TEST(ag::mul(x, x).requires_grad());
}

BOOST_AUTO_TEST_CASE(detach_cuts_the_graph) {
  Var x(Tensor({2}, {3, 4}), true);
  Var d = x.detach();
  BOOST_TEST(!d.requires_grad());
  BOOST_TEST(d.value().to_vector() == x.value().to_vector());
  Var y = ag::sum_all(ag::mul(d, x));  // only the second factor carries gradient
  y.backward();
  BOOST_TEST(x.grad().to_vector() == std::vector<float>({3, 4}));
  BOOST_TEST(!d.grad().defined());
}

BOOST_AUTO_TEST_CASE(inputs_without_grad_get_none) {
  Var x(Tensor({2}, {1, 2}), true);
  Var c(Tensor({2}, {5, 6}));
  Var y = ag::sum_all(ag::linear(ag::reshape(x, {1, 2}), ag::reshape(c, {1, 2}), Var()));
  y.backward();
  BOOST_TEST(x.grad().to_vector() == std::vector<float>({5, 6}));
  BOOST_TEST(!c.grad().defined());
}

BOOST_AUTO_TEST_CASE(backward_on_non_scalar_throws) {
  Var x(Tensor({3}, {1, 2, 3}), true);
  Var y = ag::mul(x, 2.0f);
  expect_shape_error([&] { y.backward(); }, "backward");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(autograd_errors)

BOOST_AUTO_TEST_CASE(shape_errors_name_the_op) {
  Var a(Tensor({2, 3})), b(Tensor({4})), m(Tensor({4, 2}));
  expect_shape_error([&] { ag::add(a, b); }, "add");
  expect_shape_error([&] { ag::mul(a, b); }, "mul");
  expect_shape_error([&] { ag::matmul(a, m); }, "matmul");
  expect_shape_error([&] { ag::bmm(Var(Tensor({2, 2, 3})), Var(Tensor({3, 2, 2}))); }, "bmm");
  expect_shape_error([&] { ag::linear(a, Var(Tensor({5, 4})), Var()); }, "linear");
  expect_shape_error([&] { ag::linear(a, Var(Tensor({5, 3})), Var(Tensor({4}))); }, "linear");
  expect_shape_error([&] { ag::concat({a, m}, 0); }, "concat");
  expect_shape_error([&] { ag::reshape(a, {4, 2}); }, "reshape");
  expect_shape_error([&] { ag::slice(a, 1, 2, 5); }, "slice");
  expect_shape_error([&] { ag::mse(a, Tensor({3, 2})); }, "mse");
  expect_shape_error([&] { ag::smooth_l1(a, Tensor({2, 3}), -1.0f); }, "smooth_l1");
  expect_shape_error([&] { ag::binary_cross_entropy_with_logits(a, Tensor({3})); },
                     "binary_cross_entropy_with_logits");
  Tensor rm = zeros({3}), rv = ones({3});
  expect_shape_error([&] { ag::batch_norm(a, Var(Tensor({2})), Var(), rm, rv, true); },
                     "batch_norm");
}

BOOST_AUTO_TEST_CASE(axis_errors_name_the_op) {
  Var a(Tensor({2, 3}));
  expect_shape_error([&] { ag::softmax(a, 2); }, "softmax");
  expect_shape_error([&] { ag::log_softmax(a, -3); }, "log_softmax");
  expect_shape_error([&] { ag::sum(a, {5}); }, "sum");
  expect_shape_error([&] { ag::max(a, 2); }, "max");
  expect_shape_error([&] { ag::transpose(a, 0, 2); }, "transpose");
  expect_shape_error([&] { ag::flatten(a, 2); }, "flatten");
  expect_shape_error([&] { ag::permute(a, {0, 0}); }, "permute");
}

BOOST_AUTO_TEST_CASE(empty_inputs_where_not_allowed) {
  Var e(Tensor({0, 3}));
  expect_shape_error([&] { ag::mean_all(e); }, "mean_all");
  expect_shape_error([&] { ag::max(e, 0); }, "max");
  expect_shape_error([&] { ag::cross_entropy(e, Tensor({0})); }, "cross_entropy");
  expect_shape_error([&] { ag::mse(e, Tensor({0, 3})); }, "mse");
  Tensor rm = zeros({3}), rv = ones({3});
  // One value per channel has no batch variance to train with.
  expect_shape_error([&] { ag::batch_norm(Var(Tensor({1, 3})), Var(), Var(), rm, rv, true); },
                     "batch_norm");
  // Sum of nothing is fine: 0.
  BOOST_TEST(ag::cross_entropy(e, Tensor({0}), Tensor(), -100, ag::Reduction::Sum).item() == 0.0f);
}

BOOST_AUTO_TEST_CASE(bad_targets_in_cross_entropy) {
  Var logits(Tensor({2, 3}));
  expect_shape_error([&] { ag::cross_entropy(logits, Tensor({2}, {0, 3})); }, "cross_entropy");
  expect_shape_error([&] { ag::cross_entropy(logits, Tensor({2}, {-1, 0})); }, "cross_entropy");
  expect_shape_error([&] { ag::cross_entropy(logits, Tensor({2}, {0.5f, 1})); }, "cross_entropy");
  expect_shape_error([&] { ag::cross_entropy(logits, Tensor({3}, {0, 1, 2})); }, "cross_entropy");
  expect_shape_error([&] { ag::cross_entropy(logits, Tensor({2}, {0, 1}), Tensor({2})); },
                     "cross_entropy");
  expect_shape_error([&] { ag::cross_entropy(Var(Tensor({3})), Tensor({1})); }, "cross_entropy");
  // -1 is fine once it is the ignore_index.
  BOOST_CHECK_NO_THROW(ag::cross_entropy(logits, Tensor({2}, {-1, 0}), Tensor(), -1));
}

BOOST_AUTO_TEST_SUITE_END()
