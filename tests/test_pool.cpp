// Pooling and bilinear upsampling: hand-computed cases (PyTorch's window, divisor and
// ceil-mode rules spelled out), the fast path against the reference, gradient checks,
// thread-count bit-identity and the errors of bad use.
#include <boost/test/unit_test.hpp>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "tensor/pool.h"
#include "tensor/upsample.h"

using namespace dl;

namespace {

Pool2dParams pool(int k, int s, int pad, bool ceil_mode = false, bool include_pad = true) {
  Pool2dParams p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.pad_h = p.pad_w = pad;
  p.ceil_mode = ceil_mode;
  p.count_include_pad = include_pad;
  return p;
}

ag::Pool2dOptions options(const Pool2dParams& p) {
  ag::Pool2dOptions o;
  o.kernel_h = p.kernel_h, o.kernel_w = p.kernel_w, o.stride_h = p.stride_h;
  o.stride_w = p.stride_w, o.pad_h = p.pad_h, o.pad_w = p.pad_w;
  o.ceil_mode = p.ceil_mode, o.count_include_pad = p.count_include_pad;
  return o;
}

// Distinct values in shuffled order, so every max-pool window has one winner and the
// finite differences never cross a tie.
Tensor distinct(const Shape& s, Rng& rng) {
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = 0.05f * static_cast<float>(i) - 1.0f;
  for (int64_t i = t.numel() - 1; i > 0; --i)
    std::swap(t[i], t[static_cast<int64_t>(rng.below(static_cast<uint32_t>(i + 1)))]);
  return t;
}

Tensor arange_image(int64_t h, int64_t w) {
  Tensor t({1, 1, h, w});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(i + 1);
  return t;
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

BOOST_AUTO_TEST_SUITE(pooling)

// x = 1..16 as a 4x4 image.
BOOST_AUTO_TEST_CASE(max_pool_hand_computed) {
  Tensor x = arange_image(4, 4);
  MaxPoolResult r = max_pool2d_forward(x, pool(2, 2, 0));
  BOOST_TEST(r.y.shape() == (Shape{1, 1, 2, 2}));
  BOOST_TEST(r.y[0] == 6.0f);   // max of 1 2 5 6
  BOOST_TEST(r.y[3] == 16.0f);  // max of 11 12 15 16
  BOOST_TEST(r.argmax[0] == 5);
  BOOST_TEST(r.argmax[3] == 15);
  // 3x3 windows, stride 2, pad 1: 2x2 output; the top-left window sees 1 2 5 6 only.
  MaxPoolResult p = max_pool2d_forward(x, pool(3, 2, 1));
  BOOST_TEST(p.y.shape() == (Shape{1, 1, 2, 2}));
  BOOST_TEST(p.y[0] == 6.0f);
  BOOST_TEST(p.y[3] == 16.0f);
  // Ties: the first maximum (in row-major order) wins, as in PyTorch.
  Tensor t({1, 1, 2, 2}, {3, 3, 3, 3});
  BOOST_TEST(max_pool2d_forward(t, pool(2, 2, 0)).argmax[0] == 0);
}

BOOST_AUTO_TEST_CASE(ceil_mode_and_divisors) {
  // 5x5 with 2x2 stride 2: floor gives 2x2, ceil gives 3x3 (the last window is 1 wide).
  Tensor x = arange_image(5, 5);
  BOOST_TEST(max_pool2d_forward(x, pool(2, 2, 0)).y.shape() == (Shape{1, 1, 2, 2}));
  MaxPoolResult c = max_pool2d_forward(x, pool(2, 2, 0, true));
  BOOST_TEST(c.y.shape() == (Shape{1, 1, 3, 3}));
  BOOST_TEST(c.y[8] == 25.0f);
  // Average of the clipped last window: only pixel 25, divided by its clipped size 1
  // (the padded size is clipped to the input when there is no padding).
  BOOST_TEST(avg_pool2d_forward(x, pool(2, 2, 0, true)).at({0, 0, 2, 2}) == 25.0f);
  // 4x4, 3x3 windows stride 2 pad 1 (x = 1..16). Top-left window holds 1 2 5 6 (sum 14)
  // plus 5 padding cells: count_include_pad divides by 9, otherwise by 4.
  Tensor y = arange_image(4, 4);
  BOOST_TEST(std::fabs(avg_pool2d_forward(y, pool(3, 2, 1)).at({0, 0, 0, 0}) - 14.0f / 9) < 1e-6f);
  BOOST_TEST(std::fabs(avg_pool2d_forward(y, pool(3, 2, 1, false, false)).at({0, 0, 0, 0}) -
                       14.0f / 4) < 1e-6f);
  // ceil_mode (PyTorch's rule): OH = ceil((H + 2p - k) / s) + 1, then the last window
  // is dropped if it would start in the right padding, i.e. (OH - 1) * s >= H + p.
  //   4x4, k3 s2 p1: ceil(3/2)+1 = 3; (3-1)*2 = 4 < 5 -> 3.
  //   6x6, k2 s2 p1: ceil(6/2)+1 = 4; 6 < 7 -> 4.
  //   5x5, k3 s3 p1: ceil(4/3)+1 = 3; 6 >= 6 -> dropped: 2.
  //   4x4, k2 s3 p1: ceil(4/3)+1 = 3; 6 >= 5 -> dropped: 2.
  // (All four checked against torch.nn.functional.max_pool2d.)
  BOOST_TEST(avg_pool2d_forward(y, pool(3, 2, 1, true)).size(2) == 3);
  BOOST_TEST(avg_pool2d_forward(arange_image(6, 6), pool(2, 2, 1, true)).size(2) == 4);
  BOOST_TEST(max_pool2d_forward(arange_image(5, 5), pool(3, 3, 1, true)).y.size(2) == 2);
  BOOST_TEST(max_pool2d_forward(arange_image(4, 4), pool(2, 3, 1, true)).y.size(2) == 2);
}

BOOST_AUTO_TEST_CASE(adaptive_bins_and_upsample_hand_computed) {
  // 5 -> 3 bins: [0,2), [1,4), [3,5) (floor(i*5/3), ceil((i+1)*5/3)).
  Tensor x({1, 1, 1, 5}, {1, 2, 3, 4, 5});
  Tensor a = adaptive_avg_pool2d_forward(x, 1, 3);
  BOOST_TEST(a[0] == 1.5f);
  BOOST_TEST(a[1] == 3.0f);
  BOOST_TEST(a[2] == 4.5f);
  // 1x2 -> 1x4, align_corners=false: src = (o + 0.5)/2 - 0.5 = -0.25 (clamped to 0), 0.25,
  // 0.75, 1.25 -> values 1, 1.25, 1.75, 2 (the right neighbour clamps at the edge).
  Tensor u = upsample_bilinear2d_forward(Tensor({1, 1, 1, 2}, {1, 2}), 1, 4, false);
  BOOST_TEST(u[0] == 1.0f);
  BOOST_TEST(u[1] == 1.25f);
  BOOST_TEST(u[2] == 1.75f);
  BOOST_TEST(u[3] == 2.0f);
  // align_corners=true: src = o * (2-1)/(4-1) -> 1, 4/3, 5/3, 2.
  Tensor v = upsample_bilinear2d_forward(Tensor({1, 1, 1, 2}, {1, 2}), 1, 4, true);
  BOOST_TEST(v[0] == 1.0f);
  BOOST_TEST(std::fabs(v[1] - 4.0f / 3) < 1e-6f);
  BOOST_TEST(std::fabs(v[2] - 5.0f / 3) < 1e-6f);
  BOOST_TEST(v[3] == 2.0f);
}

BOOST_AUTO_TEST_CASE(fast_path_matches_reference) {
  Rng rng(21);
  const Pool2dParams ps[] = {pool(2, 2, 0), pool(3, 2, 1), pool(3, 1, 1), pool(2, 2, 0, true),
                             pool(3, 2, 1, true, false), pool(3, 3, 1, true)};
  for (const Pool2dParams& p : ps)
    for (Shape s : {Shape{2, 3, 7, 7}, Shape{1, 2, 8, 5}}) {
      Tensor x = uniform(s, -1.0f, 1.0f, rng);
      BOOST_TEST(max_abs_diff(max_pool2d_forward(x, p).y, max_pool2d_reference(x, p)) == 0.0f);
      BOOST_TEST(max_abs_diff(avg_pool2d_forward(x, p), avg_pool2d_reference(x, p)) < 1e-6f);
    }
  Tensor x = uniform({2, 3, 7, 10}, -1.0f, 1.0f, rng);
  for (auto [oh, ow] : {std::pair<int, int>{1, 1}, {3, 4}, {7, 10}, {10, 13}})
    BOOST_TEST(max_abs_diff(adaptive_avg_pool2d_forward(x, oh, ow),
                            adaptive_avg_pool2d_reference(x, oh, ow)) < 1e-6f);
}

// The 2x2 stride-2 fast path picks the same cell as the general loop: the first
// maximum on ties, the last NaN when there are NaNs (PyTorch's rule), and always a cell
// of its own window.
BOOST_AUTO_TEST_CASE(two_by_two_argmax) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor t({1, 1, 2, 4}, {nan, 1, 5, 5, nan, 2, 5, 4});
  MaxPoolResult r = max_pool2d_forward(t, pool(2, 2, 0));
  BOOST_TEST(std::isnan(r.y[0]));
  BOOST_TEST(r.argmax[0] == 4);  // the second NaN, at (1, 0)
  BOOST_TEST(r.y[1] == 5.0f);
  BOOST_TEST(r.argmax[1] == 2);  // the first of three 5s
  Rng rng(23);
  Tensor x = uniform({2, 3, 9, 6}, -1.0f, 1.0f, rng);
  MaxPoolResult m = max_pool2d_forward(x, pool(2, 2, 0));
  BOOST_TEST(max_abs_diff(m.y, max_pool2d_reference(x, pool(2, 2, 0))) == 0.0f);
  for (int64_t i = 0; i < m.y.numel(); ++i) {
    const int64_t plane = i / 12, oy = (i % 12) / 3, ox = i % 3, a = m.argmax[i];
    BOOST_TEST((a / 6 / 2 == oy && a % 6 / 2 == ox));
    BOOST_TEST(x[plane * 54 + a] == m.y[i]);
  }
}

BOOST_AUTO_TEST_CASE(gradchecks) {
  Rng rng(22);
  for (const Pool2dParams& p : {pool(2, 2, 0), pool(3, 2, 1, true), pool(3, 2, 1, false, false)}) {
    const ag::Pool2dOptions o = options(p);
    Var x(distinct({2, 2, 5, 5}, rng), true);
    GradcheckResult m = gradcheck([o](const std::vector<Var>& v) { return ag::max_pool2d(v[0], o); },
                                  {x}, 1e-3f);
    BOOST_TEST(m.ok, m.detail);
    GradcheckResult a = gradcheck([o](const std::vector<Var>& v) { return ag::avg_pool2d(v[0], o); },
                                  {x});
    BOOST_TEST(a.ok, a.detail);
  }
  Var x(uniform({2, 2, 5, 7}, -1.0f, 1.0f, rng), true);
  GradcheckResult ad = gradcheck(
      [](const std::vector<Var>& v) { return ag::adaptive_avg_pool2d(v[0], 3, 4); }, {x});
  BOOST_TEST(ad.ok, ad.detail);
  for (bool align : {false, true})
    for (auto [oh, ow] : {std::pair<int, int>{9, 13}, {3, 4}}) {
      GradcheckResult u = gradcheck(
          [align, oh = oh, ow = ow](const std::vector<Var>& v) {
            return ag::upsample_bilinear2d(v[0], oh, ow, align);
          },
          {x});
      BOOST_TEST(u.ok, u.detail);
    }
}

BOOST_AUTO_TEST_CASE(bit_identical_for_one_and_two_threads) {
  Rng rng(23);
  Tensor x = uniform({4, 16, 40, 40}, -1.0f, 1.0f, rng);  // above the parallel threshold
  Tensor out[2][4];
  const int saved = omp_get_max_threads();
  for (int t = 0; t < 2; ++t) {
    omp_set_num_threads(t + 1);
    MaxPoolResult m = max_pool2d_forward(x, pool(3, 2, 1));
    out[t][0] = max_pool2d_backward(m.y, m.argmax, x.shape());
    out[t][1] = avg_pool2d_backward(avg_pool2d_forward(x, pool(3, 2, 1)), x.shape(), pool(3, 2, 1));
    out[t][2] = adaptive_avg_pool2d_backward(adaptive_avg_pool2d_forward(x, 7, 7), x.shape());
    out[t][3] = upsample_bilinear2d_backward(upsample_bilinear2d_forward(x, 57, 33, false),
                                             x.shape(), false);
  }
  omp_set_num_threads(saved);
  for (int i = 0; i < 4; ++i)
    BOOST_TEST(std::memcmp(out[0][i].data(), out[1][i].data(),
                           sizeof(float) * static_cast<size_t>(out[0][i].numel())) == 0);
}

BOOST_AUTO_TEST_CASE(bad_use_throws_clear_errors) {
  Tensor x({1, 1, 4, 4});
  expect_shape_error([&] { max_pool2d_forward(x, pool(5, 1, 0)); }, "larger than the padded input");
  expect_shape_error([&] { max_pool2d_forward(x, pool(2, 2, 2)); }, "half the kernel");
  expect_shape_error([&] { avg_pool2d_forward(Tensor({4, 4}), pool(2, 2, 0)); }, "[N, C, H, W]");
  expect_shape_error([&] { avg_pool2d_forward(x, pool(2, 0, 0)); }, "stride");
  expect_shape_error([&] { adaptive_avg_pool2d_forward(x, 0, 2); }, "positive");
  expect_shape_error([&] { upsample_bilinear2d_forward(x, 3, 0, false); }, "positive");
}

BOOST_AUTO_TEST_SUITE_END()
