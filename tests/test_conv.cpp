// Convolution: a hand-computed case, the fast im2col path against the six-loop
// reference over many geometries, finite-difference gradient checks of conv2d and
// conv_transpose2d, thread-count bit-identity, and the errors of bad shapes.
#include <boost/test/unit_test.hpp>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "tensor/conv.h"

using namespace dl;

namespace {

struct Case {
  int64_t N, C, H, W, K, kh, kw;
  Conv2dParams p;
  const char* name;
};

Conv2dParams params(int s, int pad, int d, int g) {
  Conv2dParams p;
  p.stride_h = p.stride_w = s;
  p.pad_h = p.pad_w = pad;
  p.dilation_h = p.dilation_w = d;
  p.groups = g;
  return p;
}

std::vector<Case> cases() {
  Conv2dParams asym = params(2, 1, 1, 1);
  asym.stride_w = 1;
  asym.pad_h = 0;
  asym.dilation_w = 2;
  return {
      {2, 3, 9, 9, 4, 3, 3, params(1, 1, 1, 1), "3x3 pad 1"},
      {2, 4, 10, 11, 6, 3, 3, params(2, 1, 1, 1), "stride 2"},
      {1, 4, 12, 12, 4, 3, 3, params(1, 2, 2, 1), "dilation 2"},
      {2, 6, 8, 8, 4, 3, 3, params(1, 1, 1, 2), "groups 2"},
      {2, 5, 7, 7, 5, 3, 3, params(1, 1, 1, 5), "depthwise"},
      {1, 4, 9, 8, 4, 3, 3, params(2, 1, 1, 4), "depthwise stride 2"},
      {1, 3, 9, 9, 3, 3, 3, params(1, 2, 2, 3), "depthwise dilation 2"},
      {2, 3, 6, 7, 3, 2, 3, [] { Conv2dParams q = params(1, 0, 1, 3); q.stride_h = 2; q.pad_w = 2; return q; }(), "depthwise asymmetric"},
      {1, 3, 2, 3, 3, 3, 3, params(2, 3, 2, 3), "depthwise taps that read only padding"},
      {1, 3, 6, 6, 6, 3, 3, params(1, 1, 1, 3), "depthwise multiplier 2 (generic path)"},
      {3, 8, 5, 6, 7, 1, 1, params(1, 0, 1, 1), "pointwise 1x1"},
      {2, 4, 5, 6, 6, 1, 1, params(1, 0, 1, 2), "pointwise grouped"},
      {2, 3, 9, 8, 2, 2, 3, asym, "asymmetric stride, pad, dilation, kernel"},
      {1, 2, 4, 4, 3, 4, 4, params(1, 0, 1, 1), "kernel covers the image"},
      {9, 3, 6, 6, 4, 3, 3, params(1, 1, 1, 1), "batch larger than the weight chunks"},
      {1, 2, 2, 3, 2, 3, 3, params(2, 3, 2, 1), "taps that read only padding"},
  };
}

Tensor rand(const Shape& s, Rng& rng) { return uniform(s, -1.0f, 1.0f, rng); }

bool identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

template <class F>
void expect_shape_error(F fn, const std::string& needle) {
  try {
    fn();
    BOOST_ERROR("expected a ShapeError mentioning '" << needle << "'");
  } catch (const ShapeError& e) {
    BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conv)

// 1 image, 1 channel 3x3, 2x2 kernel [[1, 2], [3, 4]], bias 10, no padding:
//   y[0][0] = 10 + 1*1 + 2*2 + 3*4 + 4*5 = 47      (x = 1..9 row-major)
//   y[0][1] = 10 + 1*2 + 2*3 + 3*5 + 4*6 = 57
//   y[1][0] = 10 + 1*4 + 2*5 + 3*7 + 4*8 = 77
//   y[1][1] = 10 + 1*5 + 2*6 + 3*8 + 4*9 = 87
BOOST_AUTO_TEST_CASE(hand_computed) {
  Tensor x({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor b({1}, {10});
  Tensor y = conv2d_forward(x, w, b, Conv2dParams{});
  BOOST_TEST(y.shape() == (Shape{1, 1, 2, 2}));
  BOOST_TEST(y[0] == 47.0f);
  BOOST_TEST(y[1] == 57.0f);
  BOOST_TEST(y[2] == 77.0f);
  BOOST_TEST(y[3] == 87.0f);
  // dL/dw with dL/dy = 1: each tap sums the four pixels it touched, e.g. w[0][0]
  // touched 1, 2, 4, 5 -> 12; dL/dx[1][1] (pixel 5) is touched by all four taps -> 10.
  Tensor ones_y({1, 1, 2, 2}, 1.0f);
  Tensor dw = conv2d_backward_weight(ones_y, x, w.shape(), Conv2dParams{});
  BOOST_TEST(dw[0] == 12.0f);
  BOOST_TEST(dw[3] == 28.0f);
  Tensor dx = conv2d_backward_input(ones_y, w, x.shape(), Conv2dParams{});
  BOOST_TEST(dx[4] == 10.0f);
  BOOST_TEST(dx[0] == 1.0f);
  BOOST_TEST(dx[8] == 4.0f);
}

BOOST_AUTO_TEST_CASE(fast_path_matches_reference) {
  Rng rng(11);
  for (const Case& c : cases()) {
    BOOST_TEST_CONTEXT(c.name) {
      Tensor x = rand({c.N, c.C, c.H, c.W}, rng);
      Tensor w = rand({c.K, c.C / c.p.groups, c.kh, c.kw}, rng);
      Tensor b = rand({c.K}, rng);
      Tensor y = conv2d_forward(x, w, b, c.p);
      BOOST_TEST(max_abs_diff(y, conv2d_forward_reference(x, w, b, c.p)) < 1e-4f);
      Tensor gy = rand(y.shape(), rng);
      BOOST_TEST(max_abs_diff(conv2d_backward_input(gy, w, x.shape(), c.p),
                              conv2d_backward_input_reference(gy, w, x.shape(), c.p)) < 1e-4f);
      BOOST_TEST(max_abs_diff(conv2d_backward_weight(gy, x, w.shape(), c.p),
                              conv2d_backward_weight_reference(gy, x, w.shape(), c.p)) < 1e-4f);
      Tensor db = conv2d_backward_bias(gy);
      BOOST_TEST(std::fabs(db[0] - sum_all(slice(gy, 1, 0, 1))) < 1e-4f);
    }
  }
}

BOOST_AUTO_TEST_CASE(conv2d_gradcheck) {
  Rng rng(12);
  for (const Case& c : cases()) {
    if (c.N * c.C * c.H * c.W > 400) continue;  // finite differences cost one forward per element
    BOOST_TEST_CONTEXT(c.name) {
      Var x(rand({c.N, c.C, c.H, c.W}, rng), true);
      Var w(rand({c.K, c.C / c.p.groups, c.kh, c.kw}, rng), true);
      Var b(rand({c.K}, rng), true);
      ag::Conv2dOptions o;
      o.stride_h = c.p.stride_h, o.stride_w = c.p.stride_w, o.pad_h = c.p.pad_h;
      o.pad_w = c.p.pad_w, o.dilation_h = c.p.dilation_h, o.dilation_w = c.p.dilation_w;
      o.groups = c.p.groups;
      GradcheckResult r = gradcheck(
          [o](const std::vector<Var>& v) { return ag::conv2d(v[0], v[1], v[2], o); }, {x, w, b});
      BOOST_TEST(r.ok, r.detail);
    }
  }
}

// The transposed convolution is the adjoint of the convolution: for any x and y,
// <conv(x), y> = <x, conv_transpose(y)>. Checked with the autograd ops, then gradchecked.
BOOST_AUTO_TEST_CASE(conv_transpose2d_is_the_adjoint_and_gradchecks) {
  Rng rng(13);
  ag::Conv2dOptions o;
  o.stride_h = o.stride_w = 2;
  o.pad_h = o.pad_w = 1;
  o.groups = 2;
  Tensor w = rand({4, 3, 3, 3}, rng);  // conv: 6 -> 4 channels; transpose: 4 -> 6
  Tensor x = rand({2, 6, 7, 7}, rng);
  Var cx = ag::conv2d(Var(x), Var(w), Var(), o);  // [2, 4, 4, 4]
  Tensor y = rand(cx.shape(), rng);
  Var ty = ag::conv_transpose2d(Var(y), Var(w), Var(), o);  // back to [2, 6, 7, 7]
  BOOST_TEST(ty.shape() == x.shape());
  const float lhs = sum_all(mul(cx.value(), y)), rhs = sum_all(mul(x, ty.value()));
  BOOST_TEST(std::fabs(lhs - rhs) < 1e-3f * std::fabs(lhs) + 1e-3f);

  // output_pad 1 picks the larger of the two sizes that stride 2 maps to 4.
  o.output_pad_h = o.output_pad_w = 1;
  BOOST_TEST(ag::conv_transpose2d(Var(y), Var(w), Var(), o).shape() == (Shape{2, 6, 8, 8}));

  Var xv(rand({1, 4, 3, 3}, rng), true), wv(rand({4, 3, 3, 3}, rng), true);
  Var bv(rand({6}, rng), true);
  GradcheckResult r = gradcheck(
      [o](const std::vector<Var>& v) { return ag::conv_transpose2d(v[0], v[1], v[2], o); },
      {xv, wv, bv});
  BOOST_TEST(r.ok, r.detail);
}

BOOST_AUTO_TEST_CASE(bit_identical_for_one_and_two_threads) {
  Rng rng(14);
  Tensor x = rand({5, 8, 17, 13}, rng), w = rand({12, 8, 3, 3}, rng), b = rand({12}, rng);
  Conv2dParams p = params(1, 1, 1, 1);
  Tensor out[2], dx[2], dw[2];
  const int saved = omp_get_max_threads();
  for (int t = 0; t < 2; ++t) {
    omp_set_num_threads(t + 1);
    out[t] = conv2d_forward(x, w, b, p);
    Tensor gy = mul(out[0], 0.5f);
    dx[t] = conv2d_backward_input(gy, w, x.shape(), p);
    dw[t] = conv2d_backward_weight(gy, x, w.shape(), p);
  }
  omp_set_num_threads(saved);
  BOOST_TEST(identical(out[0], out[1]));
  BOOST_TEST(identical(dx[0], dx[1]));
  BOOST_TEST(identical(dw[0], dw[1]));
}

BOOST_AUTO_TEST_CASE(bad_shapes_throw_clear_errors) {
  Tensor x({1, 6, 8, 8}), w({4, 3, 3, 3});
  expect_shape_error([&] { conv2d_forward(x, Tensor({4, 5, 3, 3}), Tensor(), Conv2dParams{}); },
                     "input channels");
  expect_shape_error([&] { conv2d_forward(x, w, Tensor(), params(1, 0, 1, 4)); },
                     "divisible by groups");
  expect_shape_error([&] { conv2d_forward(Tensor({6, 8, 8}), w, Tensor(), Conv2dParams{}); },
                     "[N, C, H, W]");
  expect_shape_error([&] { conv2d_forward(x, Tensor({4, 6, 9, 9}), Tensor(), Conv2dParams{}); },
                     "larger than the padded input");
  expect_shape_error([&] { conv2d_forward(x, Tensor({4, 6, 3, 3}), Tensor({3}), Conv2dParams{}); },
                     "bias");
  expect_shape_error([&] { conv2d_forward(x, Tensor({4, 6, 3, 3}), Tensor(), params(0, 0, 1, 1)); },
                     "stride");
  ag::Conv2dOptions o;
  o.stride_h = o.stride_w = 2;
  o.output_pad_h = 2;
  expect_shape_error(
      [&] { ag::conv_transpose2d(Var(Tensor({1, 4, 3, 3})), Var(w), Var(), o); },
      "output padding");
}

BOOST_AUTO_TEST_SUITE_END()
