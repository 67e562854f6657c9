// RoI operators: hand-computed RoI pooling, RoIAlign, position-sensitive RoI pooling
// and mask pasting on tiny maps; gradient checks; thread-count determinism of the
// backward scatters; and the ShapeErrors for misuse. The torchvision comparison is
// in test_torchvision_roi.cpp.
#include <boost/test/unit_test.hpp>

#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "detection/paste_masks.h"
#include "detection/ps_roi_pool.h"
#include "detection/roi_align.h"
#include "detection/roi_pool.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

using namespace dl;

namespace {

// The 4x4 map x[i][j] = 4 i + j, as [1, 1, 4, 4]: linear, so bilinear samples of it
// are exact and RoIAlign's bins are easy to compute by hand.
Tensor ramp() { return arange(16).reshape({1, 1, 4, 4}); }

Tensor rois_of(const std::vector<std::vector<float>>& rows) {
  std::vector<float> v;
  for (const auto& r : rows) v.insert(v.end(), r.begin(), r.end());
  return Tensor({static_cast<int64_t>(rows.size()), 5}, v);
}

void expect_values(const Tensor& got, const std::vector<float>& want, float tol = 1e-6f) {
  BOOST_REQUIRE_EQUAL(got.numel(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    BOOST_TEST(std::fabs(got[i] - want[i]) <= tol, "element " << i << ": " << got[i] << " vs "
                                                              << want[i]);
}

// Distinct values 0.1 apart in shuffled order: every max-pool bin has one winner,
// and a 1e-2 finite-difference step never changes it.
Tensor distinct(const Shape& s, Rng& rng) {
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = 0.1f * static_cast<float>(i) - 1.0f;
  for (int64_t i = t.numel() - 1; i > 0; --i)
    std::swap(t[i], t[static_cast<int64_t>(rng.below(static_cast<uint32_t>(i + 1)))]);
  return t;
}

// Two images, boxes inside, overlapping, partly outside, zero-size and inverted,
// in image coordinates for a map at spatial scale 1/2.
Tensor mixed_rois() {
  return rois_of({{0, 1.0f, 2.0f, 9.0f, 11.0f},
                  {1, -3.0f, -2.5f, 6.0f, 7.0f},
                  {0, 4.2f, 3.1f, 15.0f, 16.5f},
                  {1, 8.0f, 8.0f, 8.0f, 8.0f},
                  {0, 10.0f, 9.0f, 3.0f, 2.0f},
                  {1, 0.0f, 0.0f, 13.0f, 11.0f}});
}

void check_grad(const std::function<Var(const std::vector<Var>&)>& f, const Var& x) {
  GradcheckResult r = gradcheck(f, {x}, 1e-2f, 1e-2f, 1e-2f);
  BOOST_TEST(r.ok, r.detail << " (max abs err " << r.max_abs_err << ")");
}

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

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a[i]) * double(b[i]);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(roi_pool)

BOOST_AUTO_TEST_CASE(hand_computed_bins_and_argmax) {
  // Whole map in 2x2 bins of 2x2 cells; an inner 2x2 RoI in 1-cell bins; a RoI at
  // scale 1/2 whose corners round to cells 1..3 (3 cells, bins [1,3) and [2,4)).
  RoiPoolResult r = roi_pool_forward(ramp(), rois_of({{0, 0, 0, 3, 3}, {0, 1, 1, 2, 2}}), 2, 2, 1.0f);
  expect_values(r.y, {5, 7, 13, 15, 5, 6, 9, 10});
  BOOST_TEST(r.argmax == std::vector<int64_t>({5, 7, 13, 15, 5, 6, 9, 10}));
  // Inference (keep_argmax = false): the same outputs, no argmax kept.
  RoiPoolResult inf = roi_pool_forward(ramp(), rois_of({{0, 0, 0, 3, 3}, {0, 1, 1, 2, 2}}), 2, 2,
                                       1.0f, false);
  expect_values(inf.y, {5, 7, 13, 15, 5, 6, 9, 10});
  BOOST_TEST(inf.argmax.empty());
  expect_values(roi_pool_forward(ramp(), rois_of({{0, 2, 2, 6, 6}}), 2, 2, 0.5f).y,
                {10, 11, 14, 15});
  // Rounding is half away from zero: 1.5 -> 2, so this RoI is cells 2..3.
  expect_values(roi_pool_forward(ramp(), rois_of({{0, 1.5f, 1.5f, 3, 3}}), 1, 1, 1.0f).y, {15});
}

BOOST_AUTO_TEST_CASE(empty_bins_give_zero_and_no_gradient) {
  Tensor neg = mul(ramp(), -1.0f);
  // Wholly outside the map: every bin is clipped away.
  RoiPoolResult r = roi_pool_forward(neg, rois_of({{0, 10, 10, 12, 12}}), 2, 2, 1.0f);
  expect_values(r.y, {0, 0, 0, 0});
  BOOST_TEST(r.argmax == std::vector<int64_t>({-1, -1, -1, -1}));
  Tensor gx = roi_pool_backward(Tensor({1, 1, 2, 2}, 1.0f), rois_of({{0, 10, 10, 12, 12}}),
                                r.argmax, neg.shape());
  expect_values(gx, std::vector<float>(16, 0.0f));
  // A non-empty bin of negative values takes their max, not 0.
  expect_values(roi_pool_forward(neg, rois_of({{0, 0, 0, 1, 1}}), 1, 1, 1.0f).y, {0});
  expect_values(roi_pool_forward(neg, rois_of({{0, 1, 1, 2, 2}}), 1, 1, 1.0f).y, {-5});
}

BOOST_AUTO_TEST_CASE(overlapping_rois_accumulate_at_the_argmax) {
  Var x(ramp(), true);
  Var y = ag::roi_pool(x, rois_of({{0, 0, 0, 3, 3}, {0, 2, 2, 3, 3}}), 1, 1, 1.0f);
  y.backward(Tensor({2, 1, 1, 1}, {1.5f, 2.0f}));
  std::vector<float> want(16, 0.0f);
  want[15] = 3.5f;
  expect_values(x.grad(), want);
}

BOOST_AUTO_TEST_CASE(gradcheck_with_unique_argmax) {
  Rng rng(11);
  Var x(distinct({2, 3, 6, 7}, rng), true);
  const Tensor rois = mixed_rois();
  for (auto [oh, ow] : {std::pair<int, int>{2, 2}, {3, 2}, {4, 5}})
    check_grad([&](const std::vector<Var>& v) { return ag::roi_pool(v[0], rois, oh, ow, 0.5f); },
               x);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(roi_align)

BOOST_AUTO_TEST_CASE(hand_computed_bilinear_averages) {
  // RoI [0, 2] x [0, 2] in 2x2 bins, 2x2 samples each at .25/.75 of the bin: the
  // mean sample of bin (i, j) is (i + .5, j + .5), so the output is 4 (i+.5) + j+.5.
  expect_values(roi_align_forward(ramp(), rois_of({{0, 0, 0, 2, 2}}), 2, 2, 1.0f, 2, false),
                {2.5f, 3.5f, 6.5f, 7.5f});
  // aligned shifts by half a pixel: this RoI lands on the same cells.
  expect_values(roi_align_forward(ramp(), rois_of({{0, 0.5f, 0.5f, 2.5f, 2.5f}}), 2, 2, 1.0f, 2,
                                  true),
                {2.5f, 3.5f, 6.5f, 7.5f});
  // Scale 1/2 on a RoI twice as large, adaptive sampling (ceil(2 / 2) = 1 per bin).
  expect_values(roi_align_forward(ramp(), rois_of({{0, 0, 0, 4, 4}}), 2, 2, 0.5f, 0, false),
                {2.5f, 3.5f, 6.5f, 7.5f});
  BOOST_TEST(roi_align_forward(ramp(), rois_of({{0, 0, 0, 2, 2}}), 1, 1, 1.0f, 0, false).item() ==
             5.0f);
}

BOOST_AUTO_TEST_CASE(border_rules) {
  // Samples at (2.5|3.5, 2.5|3.5): the .5-beyond-last-row ones clamp to row/col 3.
  // Values 12.5, 13, 14.5, 15 -> mean 13.75.
  expect_values(roi_align_forward(ramp(), rois_of({{0, 2, 2, 4, 4}}), 1, 1, 1.0f, 2, false),
                {13.75f});
  // One sample per bin at y = 1, x = 4 (== W: still read, clamped to column 3) and
  // x = 6 (> W: reads 0).
  expect_values(roi_align_forward(ramp(), rois_of({{0, 3, 0, 7, 2}}), 1, 2, 1.0f, 1, false),
                {7.0f, 0.0f});
  // y = -1 is still read (clamped to row 0); y = -2 reads 0.
  expect_values(roi_align_forward(ramp(), rois_of({{0, 0, -1.5f, 2, -0.5f}}), 1, 1, 1.0f, 1, false),
                {1.0f});
  expect_values(roi_align_forward(ramp(), rois_of({{0, 0, -3, 2, -1}}), 1, 1, 1.0f, 1, false),
                {0.0f});
  // aligned = false stretches a zero-size RoI to 1 cell; aligned = true with
  // adaptive sampling takes no samples from it and outputs 0.
  expect_values(roi_align_forward(ramp(), rois_of({{0, 1, 1, 1, 1}}), 1, 1, 1.0f, 0, false),
                {7.5f});
  expect_values(roi_align_forward(ramp(), rois_of({{0, 1, 1, 1, 1}}), 1, 1, 1.0f, 0, true), {0});
}

BOOST_AUTO_TEST_CASE(backward_scatters_bilinear_weights) {
  // One sample at (0.5, 1.25): weights .5*.75, .5*.25 on row 0 cols 1, 2; same on row 1.
  Var x(Tensor({1, 1, 4, 4}), true);
  Var y = ag::roi_align(x, rois_of({{0, 0.75f, 0, 1.75f, 1}}), 1, 1, 1.0f, 1, false);
  y.backward(Tensor({1, 1, 1, 1}, 2.0f));
  std::vector<float> want(16, 0.0f);
  want[1] = want[5] = 2.0f * 0.375f;
  want[2] = want[6] = 2.0f * 0.125f;
  expect_values(x.grad(), want);
}

BOOST_AUTO_TEST_CASE(fast_path_matches_reference) {
  Rng rng(5);
  Tensor x = uniform({2, 3, 6, 7}, -1, 1, rng);
  for (bool aligned : {false, true})
    for (int sr : {0, 1, 2, 3})
      for (float scale : {1.0f, 0.5f, 0.25f}) {
        Tensor a = roi_align_forward(x, mixed_rois(), 3, 2, scale, sr, aligned);
        Tensor b = roi_align_reference(x, mixed_rois(), 3, 2, scale, sr, aligned);
        expect_values(a, b.to_vector(), 1e-6f);
      }
}

BOOST_AUTO_TEST_CASE(gradcheck_aligned_and_sampling) {
  Rng rng(3);
  Var x(uniform({2, 2, 6, 7}, -1, 1, rng), true);
  const Tensor rois = mixed_rois();
  for (bool aligned : {false, true})
    for (int sr : {0, 2}) {
      BOOST_TEST_CONTEXT("aligned " << aligned << " sampling " << sr)
      check_grad([&](const std::vector<Var>& v) {
        return ag::roi_align(v[0], rois, 3, 3, 0.5f, sr, aligned);
      }, x);
      // Linear in x: <forward(x), g> == <x, backward(g)> up to rounding.
      Tensor g = uniform({6, 2, 3, 3}, -1, 1, rng);
      const double lhs = dot(roi_align_forward(x.value(), rois, 3, 3, 0.5f, sr, aligned), g);
      const double rhs =
          dot(x.value(), roi_align_backward(g, rois, x.shape(), 0.5f, sr, aligned));
      BOOST_TEST(std::fabs(lhs - rhs) <= 1e-4 * std::max(1.0, std::fabs(lhs)));
    }
}

BOOST_AUTO_TEST_CASE(backward_is_identical_for_any_thread_count) {
  Rng rng(9);
  Tensor g = uniform({40, 8, 7, 7}, -1, 1, rng);
  std::vector<float> rows;
  for (int k = 0; k < 40; ++k) {  // many overlapping RoIs over both images
    const float x1 = rng.uniform(-4, 20), y1 = rng.uniform(-4, 20);
    rows.insert(rows.end(), {float(k % 2), x1, y1, x1 + rng.uniform(1, 16), y1 + rng.uniform(1, 16)});
  }
  const Tensor rois({40, 5}, rows);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Tensor one = roi_align_backward(g, rois, {2, 8, 12, 12}, 0.5f, 0, true);
  const Tensor pool_one = ps_roi_pool_backward(g, rois, {2, 8 * 49, 12, 12}, 0.5f);
  omp_set_num_threads(std::max(threads, 2));
  const Tensor two = roi_align_backward(g, rois, {2, 8, 12, 12}, 0.5f, 0, true);
  const Tensor pool_two = ps_roi_pool_backward(g, rois, {2, 8 * 49, 12, 12}, 0.5f);
  omp_set_num_threads(threads);
  BOOST_TEST(one.to_vector() == two.to_vector());
  BOOST_TEST(pool_one.to_vector() == pool_two.to_vector());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ps_roi_pool)

BOOST_AUTO_TEST_CASE(hand_computed_position_sensitive_bins) {
  // Channel c holds 16 c + (4 i + j); the whole-map RoI (4 cells wide: x2 - x1) in
  // 2x2 bins reads channel 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.
  Tensor x = arange(64).reshape({1, 4, 4, 4});
  Tensor y = ps_roi_pool_forward(x, rois_of({{0, 0, 0, 4, 4}}), 2, 2, 1.0f);
  BOOST_TEST(y.shape() == Shape({1, 1, 2, 2}));
  expect_values(y, {2.5f, 20.5f, 42.5f, 60.5f});
  // Wholly outside: all bins empty.
  expect_values(ps_roi_pool_forward(x, rois_of({{0, 9, 9, 12, 12}}), 2, 2, 1.0f), {0, 0, 0, 0});
  // Backward: bin (0, 0) spreads its gradient over its 4 cells of channel 0.
  Tensor g = ps_roi_pool_backward(Tensor({1, 1, 2, 2}, {1, 0, 0, 0}), rois_of({{0, 0, 0, 4, 4}}),
                                  x.shape(), 1.0f);
  std::vector<float> want(64, 0.0f);
  want[0] = want[1] = want[4] = want[5] = 0.25f;
  expect_values(g, want);
}

BOOST_AUTO_TEST_CASE(gradcheck) {
  Rng rng(4);
  Var x(uniform({2, 2 * 3 * 2, 6, 7}, -1, 1, rng), true);
  const Tensor rois = mixed_rois();
  check_grad([&](const std::vector<Var>& v) { return ag::ps_roi_pool(v[0], rois, 3, 2, 0.5f); },
             x);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(paste_masks)

BOOST_AUTO_TEST_CASE(padded_mask_resized_into_the_box) {
  // A 2x2 mask of ones, padded to 4x4, box (1,1,2,2) enlarged by 4/2 to (0,0,2,2):
  // resized to 3x3, each axis samples the padded profile [0,1,1,0] at 1/6, 1.5, 17/6.
  Tensor p = paste_masks_in_image(Tensor({1, 2, 2}, 1.0f), Tensor({1, 4}, {1, 1, 2, 2}), 4, 5, 1);
  BOOST_TEST(p.shape() == Shape({1, 4, 5}));
  const float a = 1.0f / 6.0f;
  const std::vector<float> prof = {a, 1.0f, a};
  std::vector<float> want(20, 0.0f);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) want[i * 5 + j] = prof[i] * prof[j];
  expect_values(p, want);
  std::vector<float> bin(20, 0.0f);
  bin[1 * 5 + 1] = 1.0f;
  expect_values(binarize_masks(p), bin);
}

BOOST_AUTO_TEST_CASE(clipped_at_the_image_and_layouts) {
  // No padding, 2x2 box -> the mask itself; half of it lies above/left of the image.
  Tensor m({2, 1, 2, 2}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f});
  Tensor p = paste_masks_in_image(m, Tensor({2, 4}, {-1, -1, 0, 0, 2, 1, 3, 2}), 3, 3, 0);
  BOOST_TEST(p.shape() == Shape({2, 1, 3, 3}));
  expect_values(p, {0.4f, 0, 0, 0, 0, 0, 0, 0, 0,  //
                    0, 0, 0, 0, 0, 0.5f, 0, 0, 0.7f});
  // A box right of the image pastes nothing.
  expect_values(paste_masks_in_image(Tensor({1, 2, 2}, 1.0f), Tensor({1, 4}, {5, 0, 7, 2}), 2, 3, 1),
                std::vector<float>(6, 0.0f));
  BOOST_TEST(paste_masks_in_image(Tensor({0, 3, 3}), Tensor({0, 4}), 2, 3).shape() ==
             Shape({0, 2, 3}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(roi_errors)

BOOST_AUTO_TEST_CASE(bad_shapes_throw_shape_error) {
  const Tensor x({2, 4, 5, 5});
  const Tensor ok = rois_of({{1, 0, 0, 2, 2}});
  expect_shape_error([&] { roi_pool_forward(Tensor({4, 5, 5}), ok, 2, 2, 1.0f); }, "roi_pool");
  expect_shape_error([&] { roi_pool_forward(x, Tensor({1, 4}), 2, 2, 1.0f); }, "roi_pool");
  expect_shape_error([&] { roi_pool_forward(x, rois_of({{2, 0, 0, 1, 1}}), 2, 2, 1.0f); },
                     "roi_pool");
  expect_shape_error([&] { roi_pool_forward(x, rois_of({{0.5f, 0, 0, 1, 1}}), 2, 2, 1.0f); },
                     "roi_pool");
  expect_shape_error([&] { roi_pool_forward(x, rois_of({{0, NAN, 0, 1, 1}}), 2, 2, 1.0f); },
                     "roi_pool");
  expect_shape_error([&] { roi_pool_forward(x, ok, 0, 2, 1.0f); }, "roi_pool");
  expect_shape_error([&] { roi_pool_forward(x, ok, 2, 2, 0.0f); }, "roi_pool");
  expect_shape_error([&] { roi_pool_backward(Tensor({1, 3, 2, 2}), ok, {}, x.shape()); },
                     "roi_pool_backward");
  expect_shape_error([&] { roi_align_forward(x, Tensor({1, 5, 1}), 2, 2, 1.0f); }, "roi_align");
  expect_shape_error([&] { roi_align_forward(x, rois_of({{-1, 0, 0, 1, 1}}), 2, 2, 1.0f); },
                     "roi_align");
  expect_shape_error([&] { roi_align_forward(Tensor({1, 1, 0, 4}), Tensor({0, 5}), 2, 2, 1.0f); },
                     "roi_align");
  expect_shape_error([&] { roi_align_backward(Tensor({1, 3, 2, 2}), ok, x.shape(), 1.0f); },
                     "roi_align_backward");
  expect_shape_error([&] { ps_roi_pool_forward(x, ok, 3, 3, 1.0f); }, "ps_roi_pool");
  expect_shape_error([&] { ps_roi_pool_backward(Tensor({2, 1, 2, 2}), ok, x.shape(), 1.0f); },
                     "ps_roi_pool_backward");
  expect_shape_error([&] { paste_masks_in_image(Tensor({1, 2, 3}), Tensor({1, 4}), 4, 4); },
                     "paste_masks_in_image");
  expect_shape_error([&] { paste_masks_in_image(Tensor({2, 2, 2}), Tensor({1, 4}), 4, 4); },
                     "paste_masks_in_image");
  expect_shape_error([&] { paste_masks_in_image(Tensor({1, 2, 2}), Tensor({1, 4}), 0, 4); },
                     "paste_masks_in_image");
}

// The geometry lesson 07's picture draws (roi_pool_bins, roi_align_sample_points) is the
// kernels' own: RoI pooling's outputs are the maxima over the listed cells, and RoIAlign's
// outputs on maps linear in x (or y) are the mean x (or y) of the listed samples.
BOOST_AUTO_TEST_CASE(picture_geometry_is_the_kernels) {
  const float box0[4] = {0, 0, 2, 2};
  const std::vector<SamplePoint> p0 = roi_align_sample_points(box0, 2, 2, 1.0f, 2);
  BOOST_REQUIRE_EQUAL(p0.size(), 16u);  // bin (0, 0) first, its 2x2 grid row by row
  BOOST_TEST(p0[0].x == 0.25f);
  BOOST_TEST(p0[1].x == 0.75f);
  BOOST_TEST(p0[2].y == 0.75f);
  BOOST_TEST(p0[4].x == 1.25f);  // bin (0, 1)
  const RoiPoolBins b0 = roi_pool_bins(box0, 2, 2, 1.0f, 4, 4);  // cells 0..2: 3 cells in 2 bins
  BOOST_TEST(b0.rows == std::vector<int64_t>({0, 2, 1, 3}), boost::test_tools::per_element());

  const int64_t H = 10, W = 12;
  Rng rng(5);
  const Tensor values = uniform({1, 1, H, W}, 0.0f, 1.0f, rng);
  Tensor column({1, 1, H, W}), row({1, 1, H, W});
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) column[y * W + x] = float(x), row[y * W + x] = float(y);
  for (int trial = 0; trial < 50; ++trial) {
    // A RoI well inside the map (in image pixels, stride 4), so no sample is clamped.
    const float x1 = 4 + 20 * rng.uniform(), y1 = 4 + 12 * rng.uniform();
    const float box[4] = {x1, y1, x1 + 2 + 18 * rng.uniform(), y1 + 2 + 14 * rng.uniform()};
    const int pool = 1 + trial % 4, ratio = trial % 3 - 1;  // -1: adaptive
    const Tensor rois = rois_of({{0, box[0], box[1], box[2], box[3]}});

    const Tensor pooled = roi_pool_forward(values, rois, pool, pool, 0.25f, false).y;
    const RoiPoolBins bins = roi_pool_bins(box, pool, pool, 0.25f, H, W);
    for (int i = 0; i < pool; ++i)
      for (int j = 0; j < pool; ++j) {
        float best = -1;  // values are in [0, 1); an empty bin outputs 0
        for (int64_t y = bins.rows[2 * i]; y < bins.rows[2 * i + 1]; ++y)
          for (int64_t x = bins.cols[2 * j]; x < bins.cols[2 * j + 1]; ++x)
            best = std::max(best, values[y * W + x]);
        if (best < 0) best = 0;
        BOOST_TEST(pooled[i * pool + j] == best, "trial " << trial << " bin " << i << "," << j);
      }

    const std::vector<SamplePoint> pts = roi_align_sample_points(box, pool, pool, 0.25f, ratio);
    const Tensor ax = roi_align_forward(column, rois, pool, pool, 0.25f, ratio);
    const Tensor ay = roi_align_forward(row, rois, pool, pool, 0.25f, ratio);
    const size_t per_bin = pts.size() / size_t(pool * pool);
    BOOST_REQUIRE(per_bin > 0 && per_bin * pool * pool == pts.size());
    for (int bin = 0; bin < pool * pool; ++bin) {
      double mx = 0, my = 0;
      for (size_t k = 0; k < per_bin; ++k) mx += pts[bin * per_bin + k].x, my += pts[bin * per_bin + k].y;
      BOOST_TEST(std::fabs(ax[bin] - mx / per_bin) < 1e-4, "trial " << trial << " bin " << bin);
      BOOST_TEST(std::fabs(ay[bin] - my / per_bin) < 1e-4, "trial " << trial << " bin " << bin);
    }
  }
}

BOOST_AUTO_TEST_CASE(no_rois_give_empty_outputs) {
  const Tensor x({1, 4, 5, 5});
  BOOST_TEST(roi_pool_forward(x, Tensor({0, 5}), 2, 2, 1.0f).y.shape() == Shape({0, 4, 2, 2}));
  BOOST_TEST(roi_align_forward(x, Tensor({0, 5}), 2, 2, 1.0f).shape() == Shape({0, 4, 2, 2}));
  BOOST_TEST(ps_roi_pool_forward(x, Tensor({0, 5}), 2, 2, 1.0f).shape() == Shape({0, 1, 2, 2}));
  BOOST_TEST(roi_align_backward(Tensor({0, 4, 2, 2}), Tensor({0, 5}), x.shape(), 1.0f).to_vector() ==
             std::vector<float>(100, 0.0f));
}

BOOST_AUTO_TEST_SUITE_END()
