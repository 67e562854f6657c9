// Spatial pyramid pooling: window projection and pooled values worked out by hand,
// the fast path (RoI pooling per level) against the plain loops, and gradients.
#include <boost/test/unit_test.hpp>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "detection/spp_pool.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

using namespace dl;

namespace {
Tensor rois_of(std::vector<std::vector<float>> rows) {
  Tensor t({static_cast<int64_t>(rows.size()), 5});
  for (size_t k = 0; k < rows.size(); ++k)
    for (int i = 0; i < 5; ++i) t.data()[k * 5 + i] = rows[k][i];
  return t;
}
}  // namespace

BOOST_AUTO_TEST_CASE(windows_map_to_the_cells_whose_centres_they_hold) {
  // Stride 4: cell c's centre is at 4c + 2.
  CellRange all = project_window({0, 0, 128, 128}, 4.0f, 32, 32);
  BOOST_TEST(all.x0 == 0);
  BOOST_TEST(all.x1 == 31);
  BOOST_TEST(all.y1 == 31);
  // x in [10, 30]: centres 10, 14, ..., 30 -> cells 2..7. y in [20, 21]: no centre
  // inside (18 and 22 are outside), so the cell under the window's centre, 5.
  CellRange r = project_window({10, 20, 30, 21}, 4.0f, 32, 32);
  BOOST_TEST(r.x0 == 2);
  BOOST_TEST(r.x1 == 7);
  BOOST_TEST(r.y0 == 5);
  BOOST_TEST(r.y1 == 5);
  // Past the border: clipped to the map.
  CellRange out = project_window({-20, 100, 60, 400}, 8.0f, 16, 16);
  BOOST_TEST(out.x0 == 0);
  BOOST_TEST(out.y1 == 15);
  Tensor t = spp_rois({{10, 20, 30, 21}}, 1, 4.0f, 32, 32);
  BOOST_TEST(t.data()[0] == 1.0f);
  BOOST_TEST(t.data()[1] == 2.0f);
  BOOST_TEST(t.data()[4] == 5.0f);
}

BOOST_AUTO_TEST_CASE(hand_computed_pyramid) {
  // A 4 x 4 map holding 0..15 row by row.
  const Tensor x = arange(16).reshape({1, 1, 4, 4});
  // Window 1: the whole map. Level 1: 15. Level 2: quadrants' maxima 5, 7, 13, 15.
  // Window 2: cells x 1..3, y 0..2 (3 x 3). Level 2 bins overlap: rows [0, 2) and
  // [1, 3), columns 1-2 and 2-3 -> 6, 7, 10, 11. Level 1: 11.
  const Tensor rois = rois_of({{0, 0, 0, 3, 3}, {0, 1, 0, 3, 2}});
  const std::vector<float> want = {15, 5, 7, 13, 15, 11, 6, 7, 10, 11};
  for (const Tensor& y : {spp_pool_forward(x, rois, {1, 2}), spp_pool_reference(x, rois, {1, 2})}) {
    BOOST_REQUIRE(y.shape() == Shape({2, 5}));
    for (int i = 0; i < 10; ++i) BOOST_TEST(y.data()[i] == want[i], "element " << i);
  }
  BOOST_CHECK_THROW(spp_pool_forward(x, rois, {}), ShapeError);
  BOOST_CHECK_THROW(spp_pool_forward(x, rois, {2, 0}), ShapeError);
  BOOST_CHECK_THROW(spp_pool_forward(x, rois_of({{1, 0, 0, 1, 1}}), {1}), ShapeError);
}

BOOST_AUTO_TEST_CASE(fast_path_matches_reference_and_gradients_check) {
  Rng rng(5);
  const Tensor x = uniform({2, 3, 9, 11}, -1.0f, 1.0f, rng);
  std::vector<Box> windows = {{0, 0, 44, 36}, {5, 3, 20, 30}, {30, 10, 44, 14}, {1, 1, 2, 2}};
  Tensor r0 = spp_rois(windows, 0, 4.0f, 11, 9), r1 = spp_rois(windows, 1, 4.0f, 11, 9);
  const Tensor rois = concat({r0, r1}, 0);
  const std::vector<int> levels = {4, 2, 1};
  const Tensor fast = spp_pool_forward(x, rois, levels);
  const Tensor ref = spp_pool_reference(x, rois, levels);
  BOOST_REQUIRE(fast.shape() == Shape({8, 3 * 21}));
  for (int64_t i = 0; i < fast.numel(); ++i) BOOST_TEST(fast.data()[i] == ref.data()[i]);
  // Gradient: distinct values so every bin has one winner.
  Tensor d = arange(2 * 3 * 9 * 11).reshape({2, 3, 9, 11});
  for (int64_t i = 0; i < d.numel(); ++i) d.data()[i] = 0.05f * static_cast<float>((i * 37) % d.numel());
  Var v(d, true);
  GradcheckResult g = gradcheck(
      [&](const std::vector<Var>& in) { return ag::spp_pool(in[0], rois, levels); }, {v});
  BOOST_TEST(g.ok, g.detail);
}
