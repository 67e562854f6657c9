// Box machinery, hand-computed: formats, area, clip, IoU/GIoU (boxes.cpp), the box
// coder, NMS (greedy, per-class, soft), anchors, the IoU matcher and the balanced
// sampler. The fast nms() is checked against nms_reference() on random inputs.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "detection/anchors.h"
#include "detection/box_coder.h"
#include "detection/boxes.h"
#include "detection/matcher.h"
#include "detection/nms.h"
#include "detection/sampler.h"
#include "tensor/rng.h"

using namespace dl;
namespace tt = boost::test_tools;

namespace {

bool same_box(const Box& a, const Box& b, float tol = 1e-5f) {
  return std::fabs(a.x1 - b.x1) <= tol && std::fabs(a.y1 - b.y1) <= tol &&
         std::fabs(a.x2 - b.x2) <= tol && std::fabs(a.y2 - b.y2) <= tol;
}

// Random boxes with integer corners in [0, extent], positive size.
std::vector<Box> random_boxes(int n, float extent, Rng& rng) {
  std::vector<Box> out;
  for (int i = 0; i < n; ++i) {
    const float x = std::floor(rng.uniform(0, extent * 0.8f));
    const float y = std::floor(rng.uniform(0, extent * 0.8f));
    const float w = 1 + std::floor(rng.uniform(0, extent * 0.3f));
    const float h = 1 + std::floor(rng.uniform(0, extent * 0.3f));
    out.push_back({x, y, x + w, y + h});
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(boxes)

BOOST_AUTO_TEST_CASE(formats_round_trip) {
  const Box b = box_from({10, 20, 30, 60}, BoxFormat::XYWH);
  BOOST_TEST(same_box(b, {10, 20, 40, 80}));
  const auto c = box_to(b, BoxFormat::CXCYWH);
  BOOST_TEST(c[0] == 25.0f);
  BOOST_TEST(c[1] == 50.0f);
  BOOST_TEST(c[2] == 30.0f);
  BOOST_TEST(c[3] == 60.0f);
  BOOST_TEST(same_box(box_from(c, BoxFormat::CXCYWH), b));
  const auto w = box_to(b, BoxFormat::XYWH);
  BOOST_TEST(same_box(box_from(w, BoxFormat::XYWH), b));
  BOOST_TEST(same_box(box_from(box_to(b, BoxFormat::XYXY), BoxFormat::XYXY), b));
}

BOOST_AUTO_TEST_CASE(area_and_clip) {
  BOOST_TEST(box_area({0, 0, 4, 5}) == 20.0f);
  BOOST_TEST(box_area({5, 5, 3, 8}) == 0.0f);   // x2 < x1: degenerate, not negative
  BOOST_TEST(box_area({1, 1, 1, 9}) == 0.0f);   // zero width
  BOOST_TEST(same_box(clip_box({-5, 3, 120, 90}, 100, 80), {0, 3, 100, 80}));
  BOOST_TEST(same_box(clip_box({150, -10, 170, -2}, 100, 80), {100, 0, 100, 0}));
}

BOOST_AUTO_TEST_CASE(iou_hand_cases) {
  const Box a{0, 0, 2, 2}, b{1, 1, 3, 3};
  BOOST_TEST(box_iou(a, b) == 1.0f / 7.0f, tt::tolerance(1e-6f));  // inter 1, union 7
  BOOST_TEST(box_iou(a, a) == 1.0f);
  BOOST_TEST(box_iou(a, {5, 5, 6, 6}) == 0.0f);            // disjoint
  BOOST_TEST(box_iou(a, {2, 0, 4, 2}) == 0.0f);            // touching edges
  BOOST_TEST(box_iou({0, 0, 0, 0}, {0, 0, 0, 0}) == 0.0f); // empty union: 0, not NaN
  BOOST_TEST(box_iou({0, 0, 3, 1}, {1, 0, 4, 1}) == 0.5f);   // exactly 2 / 4
  BOOST_TEST(box_iou({0, 0, 4, 4}, {1, 1, 2, 2}) == 1.0f / 16.0f);  // contained
}

BOOST_AUTO_TEST_CASE(giou_hand_cases) {
  // Hull {0,0,3,3} has area 9; union 7: 1/7 - 2/9 = -5/63.
  BOOST_TEST(generalized_box_iou({0, 0, 2, 2}, {1, 1, 3, 3}) == -5.0f / 63.0f,
             tt::tolerance(1e-6f));
  BOOST_TEST(generalized_box_iou({0, 0, 2, 2}, {0, 0, 2, 2}) == 1.0f);
  // Disjoint: IoU 0 but still ranked by distance.
  BOOST_TEST(generalized_box_iou({0, 0, 1, 1}, {2, 0, 3, 1}) == -1.0f / 3.0f,
             tt::tolerance(1e-6f));
  BOOST_TEST(generalized_box_iou({0, 0, 1, 1}, {9, 9, 10, 10}) == -0.98f, tt::tolerance(1e-6f));
  // Degenerate: two equal points (hull area 0) give IoU 0; a point inside a box gives
  // 0 (hull = the box = the union); two parallel lines give -1 (union 0, hull 8).
  BOOST_TEST(generalized_box_iou({1, 1, 1, 1}, {1, 1, 1, 1}) == 0.0f);
  BOOST_TEST(generalized_box_iou({1, 1, 1, 1}, {0, 0, 2, 2}) == 0.0f);
  BOOST_TEST(generalized_box_iou({0, 0, 4, 0}, {0, 2, 4, 2}) == -1.0f);
}

BOOST_AUTO_TEST_CASE(pairwise_matrices_are_row_major) {
  const std::vector<Box> a{{0, 0, 2, 2}, {10, 10, 12, 12}};
  const std::vector<Box> b{{1, 1, 3, 3}, {0, 0, 2, 2}, {10, 10, 11, 11}};
  const auto m = box_iou_matrix(a, b);
  BOOST_REQUIRE(m.size() == 6u);
  BOOST_TEST(m[1] == 1.0f);        // a0, b1
  BOOST_TEST(m[5] == 0.25f);       // a1, b2
  BOOST_TEST(m[3] == 0.0f);        // a1, b0
  const auto g = generalized_box_iou_matrix(a, b);
  BOOST_TEST(g[0] == -5.0f / 63.0f, tt::tolerance(1e-6f));
  BOOST_TEST(box_iou_matrix({}, b).empty());
}

BOOST_AUTO_TEST_CASE(tensor_conversion_and_small_boxes) {
  const std::vector<Box> bs{{1, 2, 3, 4}, {5, 6, 7.5f, 8}};
  const Tensor t = boxes_to_tensor(bs);
  BOOST_TEST(t.shape() == Shape({2, 4}));
  BOOST_TEST(t.at({1, 2}) == 7.5f);
  BOOST_TEST(same_box(boxes_from_tensor(t)[1], bs[1]));
  BOOST_CHECK_THROW(boxes_from_tensor(Tensor({2, 3})), ShapeError);
  BOOST_CHECK_THROW(boxes_from_tensor(Tensor({8})), ShapeError);
  const std::vector<int> keep = remove_small_boxes({{0, 0, 1, 5}, {0, 0, 2, 2}, {0, 0, 5, 0.5f}}, 1);
  BOOST_TEST(keep == std::vector<int>({0, 1}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(box_coder)

BOOST_AUTO_TEST_CASE(encode_hand_case) {
  // Reference centre (5, 10), size 10x20; target centre (15, 20), size 20x20.
  const Box ref{0, 0, 10, 20}, target{5, 10, 25, 30};
  const BoxDelta d = encode_box(target, ref);
  BOOST_TEST(d[0] == 1.0f);
  BOOST_TEST(d[1] == 0.5f);
  BOOST_TEST(d[2] == std::log(2.0f), tt::tolerance(1e-6f));
  BOOST_TEST(d[3] == 0.0f);
  const BoxDelta w = encode_box(target, ref, rcnn_box_coder());   // weights 10, 10, 5, 5
  BOOST_TEST(w[0] == 10.0f);
  BOOST_TEST(w[1] == 5.0f);
  BOOST_TEST(w[2] == 5.0f * std::log(2.0f), tt::tolerance(1e-6f));
  BOOST_TEST(same_box(decode_box(d, ref), target));
  BOOST_TEST(same_box(decode_box(w, ref, rcnn_box_coder()), target, 1e-4f));
  BOOST_CHECK_THROW(encode_box(target, {3, 3, 3, 8}), std::invalid_argument);
  BOOST_CHECK_THROW(encode_box({3, 3, 9, 3}, ref), std::invalid_argument);
  BOOST_TEST(kBoxDeltaClamp == std::log(1000.0f / 16.0f), tt::tolerance(1e-7f));
}

BOOST_AUTO_TEST_CASE(decode_inverts_encode) {
  Rng rng(7);
  const std::vector<Box> refs = random_boxes(50, 200, rng), targets = random_boxes(50, 200, rng);
  for (const BoxCoder& c : {BoxCoder{}, rcnn_box_coder()}) {
    const auto back = decode_boxes(encode_boxes(targets, refs, c), refs, c);
    for (size_t i = 0; i < targets.size(); ++i) BOOST_TEST(same_box(back[i], targets[i], 1e-3f));
  }
  BOOST_CHECK_THROW(encode_boxes(targets, {refs[0]}), ShapeError);
}

BOOST_AUTO_TEST_CASE(decode_clamps_log_scale) {
  // dw = dh = 10 is clamped to log(1000/16): the 16-pixel box grows to exactly 1000.
  const Box b = decode_box({0, 0, 10, 10}, {0, 0, 16, 16});
  BOOST_TEST(b.width() == 1000.0f, tt::tolerance(1e-5f));
  BOOST_TEST(b.cx() == 8.0f, tt::tolerance(1e-5f));
  // With weight 5 the clamp applies after dividing: 10 / 5 = 2 stays unclamped.
  const Box c = decode_box({0, 0, 10, 0}, {0, 0, 16, 16}, rcnn_box_coder());
  BOOST_TEST(c.width() == 16.0f * std::exp(2.0f), tt::tolerance(1e-5f));
  // No lower clamp: a very negative dw shrinks to (almost) nothing.
  BOOST_TEST(decode_box({0, 0, -50, 0}, {0, 0, 16, 16}).width() < 1e-10f);
}

BOOST_AUTO_TEST_CASE(tensor_forms_and_per_class_columns) {
  const std::vector<Box> refs{{0, 0, 10, 20}, {10, 10, 20, 20}};
  const std::vector<Box> targets{{5, 10, 25, 30}, {10, 10, 20, 20}};
  const Tensor d = encode_deltas(targets, refs);
  BOOST_TEST(d.shape() == Shape({2, 4}));
  BOOST_TEST(d.at({0, 0}) == 1.0f);
  BOOST_TEST(d.at({1, 2}) == 0.0f);
  // Two classes per row: class 0 moves by one width, class 1 stays.
  const Tensor two({2, 8}, {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  const Tensor out = decode_deltas(two, refs);
  BOOST_TEST(out.shape() == Shape({2, 8}));
  BOOST_TEST(out.at({0, 0}) == 10.0f);
  BOOST_TEST(out.at({0, 2}) == 20.0f);
  BOOST_TEST(out.at({0, 4}) == 0.0f);
  BOOST_TEST(out.at({1, 7}) == 20.0f);
  BOOST_CHECK_THROW(decode_deltas(Tensor({2, 5}), refs), ShapeError);
  BOOST_CHECK_THROW(decode_deltas(Tensor({3, 4}), refs), ShapeError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(non_maximum_suppression)

BOOST_AUTO_TEST_CASE(greedy_hand_case) {
  // IoU(0,1) = 81/119 = 0.68, IoU(3,0) = 50/150 = 0.33, IoU(3,1) = 54/146 = 0.37.
  const std::vector<Box> b{{0, 0, 10, 10}, {1, 1, 11, 11}, {20, 20, 30, 30}, {5, 0, 15, 10}};
  const std::vector<float> s{0.9f, 0.8f, 0.7f, 0.95f};
  BOOST_TEST(nms(b, s, 0.5f) == std::vector<int>({3, 0, 2}));
  BOOST_TEST(nms(b, s, 0.3f) == std::vector<int>({3, 2}));
  BOOST_TEST(nms(b, s, 0.7f) == std::vector<int>({3, 0, 1, 2}));
  BOOST_TEST(nms_reference(b, s, 0.5f) == std::vector<int>({3, 0, 2}));
  // Suppression needs IoU strictly above the threshold: IoU exactly 0.5 keeps both.
  BOOST_TEST(nms({{0, 0, 3, 1}, {1, 0, 4, 1}}, {0.9f, 0.8f}, 0.5f) == std::vector<int>({0, 1}));
  // IoU 1/5 rounds up in float: above the double 0.2 (as in torchvision), not above 0.2f.
  const std::vector<Box> fifth{{0, 0, 3, 1}, {2, 0, 5, 1}};
  BOOST_TEST(nms(fifth, {0.9f, 0.8f}, 0.2) == std::vector<int>({0}));
  BOOST_TEST(nms(fifth, {0.9f, 0.8f}, 0.2f) == std::vector<int>({0, 1}));
}

BOOST_AUTO_TEST_CASE(ties_go_to_the_lower_index) {
  const std::vector<Box> same(3, Box{0, 0, 10, 10});
  BOOST_TEST(nms(same, {0.5f, 0.5f, 0.5f}, 0.5f) == std::vector<int>({0}));
  const std::vector<Box> apart{{0, 0, 1, 1}, {2, 0, 3, 1}, {4, 0, 5, 1}, {6, 0, 7, 1}};
  BOOST_TEST(nms(apart, {0.5f, 0.7f, 0.5f, 0.7f}, 0.5f) == std::vector<int>({1, 3, 0, 2}));
  // Box 1 is the better box geometrically but loses the tie to index 0.
  BOOST_TEST(nms({{0, 0, 10, 10}, {0, 0, 10, 11}}, {0.6f, 0.6f}, 0.5f) == std::vector<int>({0}));
}

BOOST_AUTO_TEST_CASE(degenerate_and_empty) {
  // Zero-area boxes overlap nothing: all kept, even two identical ones.
  const std::vector<Box> b{{0, 0, 0, 0}, {0, 0, 0, 0}, {5, 5, 5, 10}, {0, 0, 10, 10}};
  BOOST_TEST(nms(b, {0.9f, 0.8f, 0.7f, 0.6f}, 0.0f) == std::vector<int>({0, 1, 2, 3}));
  BOOST_TEST(nms({}, {}, 0.5f).empty());
  BOOST_TEST(batched_nms({}, {}, {}, 0.5f).empty());
  BOOST_TEST(soft_nms({}, {}).indices.empty());
  BOOST_CHECK_THROW(nms(b, {0.5f}, 0.5f), ShapeError);
  BOOST_CHECK_THROW(batched_nms(b, {1, 2, 3, 4}, {0}, 0.5f), ShapeError);
}

BOOST_AUTO_TEST_CASE(fast_nms_matches_reference) {
  Rng rng(2026);
  for (int trial = 0; trial < 20; ++trial) {
    const std::vector<Box> b = random_boxes(150, 100, rng);
    std::vector<float> s(b.size());
    // Few distinct scores, so ties are everywhere.
    for (float& v : s) v = static_cast<float>(rng.below(6)) / 5.0f;
    for (float t : {0.1f, 0.3f, 0.5f, 0.7f}) BOOST_TEST(nms(b, s, t) == nms_reference(b, s, t));
  }
}

BOOST_AUTO_TEST_CASE(batched_is_per_class) {
  // 0 and 1 are identical but of different classes; 2 overlaps 0 within class 0.
  const std::vector<Box> b{{0, 0, 10, 10}, {0, 0, 10, 10}, {1, 0, 11, 10}, {50, 50, 60, 60}};
  const std::vector<float> s{0.9f, 0.8f, 0.85f, 0.3f};
  BOOST_TEST(batched_nms(b, s, {0, 1, 0, 0}, 0.5f) == std::vector<int>({0, 1, 3}));
  BOOST_TEST(batched_nms(b, s, {0, 0, 0, 0}, 0.5f) == nms(b, s, 0.5f));
  // Random: the union of per-class nms, sorted by score then index.
  Rng rng(11);
  const std::vector<Box> r = random_boxes(120, 80, rng);
  std::vector<float> rs(r.size());
  std::vector<int> cls(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    rs[i] = static_cast<float>(rng.below(8)) / 7.0f;
    cls[i] = static_cast<int>(rng.below(3));
  }
  std::vector<int> want;
  for (int c = 0; c < 3; ++c) {
    std::vector<Box> cb;
    std::vector<float> cs;
    std::vector<int> ids;
    for (size_t i = 0; i < r.size(); ++i)
      if (cls[i] == c) cb.push_back(r[i]), cs.push_back(rs[i]), ids.push_back(static_cast<int>(i));
    for (int k : nms_reference(cb, cs, 0.4f)) want.push_back(ids[k]);
  }
  std::sort(want.begin(), want.end(),
            [&](int a, int b2) { return rs[a] != rs[b2] ? rs[a] > rs[b2] : a < b2; });
  BOOST_TEST(batched_nms(r, rs, cls, 0.4f) == want);
}

BOOST_AUTO_TEST_CASE(soft_nms_hand_cases) {
  // IoU(0, 1) = 1/3; box 2 is disjoint from both.
  const std::vector<Box> b{{0, 0, 10, 10}, {5, 0, 15, 10}, {20, 20, 30, 30}};
  const std::vector<float> s{0.9f, 0.8f, 0.6f};
  SoftNmsOptions lin;
  lin.method = SoftNmsMethod::Linear;
  lin.iou_threshold = 0.3f;
  // Box 1 decays to 0.8 * (1 - 1/3) = 0.5333 and falls behind box 2.
  SoftNmsResult r = soft_nms(b, s, lin);
  BOOST_TEST(r.indices == std::vector<int>({0, 2, 1}));
  BOOST_TEST(r.scores[0] == 0.9f);
  BOOST_TEST(r.scores[1] == 0.6f);
  BOOST_TEST(r.scores[2] == 0.8f * 2.0f / 3.0f, tt::tolerance(1e-6f));
  // Above N_t's reach nothing decays.
  lin.iou_threshold = 0.4f;
  BOOST_TEST(soft_nms(b, s, lin).indices == std::vector<int>({0, 1, 2}));
  // A decayed score under score_threshold is dropped.
  lin.iou_threshold = 0.3f;
  lin.score_threshold = 0.55f;
  BOOST_TEST(soft_nms(b, s, lin).indices == std::vector<int>({0, 2}));
  // Gaussian, sigma 0.5: 0.8 * exp(-(1/9) / 0.5) = 0.6406 stays ahead of 0.6.
  SoftNmsOptions g;
  r = soft_nms(b, s, g);
  BOOST_TEST(r.indices == std::vector<int>({0, 1, 2}));
  BOOST_TEST(r.scores[1] == 0.8f * std::exp(-2.0f / 9.0f), tt::tolerance(1e-6f));
  BOOST_TEST(r.scores[2] == 0.6f);
  g.sigma = 0;
  BOOST_CHECK_THROW(soft_nms(b, s, g), std::invalid_argument);
  // Identical boxes with a tie: the lower index is selected first.
  const SoftNmsResult t = soft_nms(std::vector<Box>(2, Box{0, 0, 4, 4}), {0.5f, 0.5f}, SoftNmsOptions{});
  BOOST_TEST(t.indices == std::vector<int>({0, 1}));
  BOOST_TEST(t.scores[1] == 0.5f * std::exp(-2.0f), tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(anchors)

BOOST_AUTO_TEST_CASE(cell_anchors_hand_computed) {
  // Ratio 0.5: w = 32 * sqrt(2) = 45.25, h = 22.63 -> halves 22.63, 11.31 -> 23, 11.
  const std::vector<Box> c = cell_anchors({32, 64}, {0.5f, 1.0f, 2.0f});
  BOOST_REQUIRE(c.size() == 6u);
  BOOST_TEST(same_box(c[0], {-23, -11, 23, 11}));
  BOOST_TEST(same_box(c[1], {-45, -23, 45, 23}));   // ratio 0.5, size 64
  BOOST_TEST(same_box(c[2], {-16, -16, 16, 16}));
  BOOST_TEST(same_box(c[3], {-32, -32, 32, 32}));
  BOOST_TEST(same_box(c[4], {-11, -23, 11, 23}));
  BOOST_TEST(same_box(c[5], {-23, -45, 23, 45}));
  // Halves round to even, like torch.round: 16.5 -> 16, 17.5 -> 18.
  BOOST_TEST(same_box(cell_anchors({33}, {1})[0], {-16, -16, 16, 16}));
  BOOST_TEST(same_box(cell_anchors({35}, {1})[0], {-18, -18, 18, 18}));
  BOOST_CHECK_THROW(cell_anchors({0}, {1}), std::invalid_argument);
  BOOST_CHECK_THROW(cell_anchors({32}, {-1}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(grid_order_is_row_column_anchor) {
  const std::vector<Box> c = cell_anchors({32, 64}, {0.5f, 1.0f, 2.0f});
  const std::vector<Box> g = grid_anchors(c, {2, 3}, 16, 16);
  BOOST_REQUIRE(g.size() == 36u);
  BOOST_TEST(same_box(g[0], c[0]));                  // centred on (0, 0)
  BOOST_TEST(same_box(g[6], {-7, -11, 39, 11}));     // x = 1: shifted by 16 in x
  BOOST_TEST(same_box(g[30], {9, 5, 55, 27}));       // y = 1, x = 2, anchor 0
  BOOST_TEST(same_box(g[35], {9, -29, 55, 61}));     // y = 1, x = 2, anchor 5
}

BOOST_AUTO_TEST_CASE(multilevel_counts_and_strides) {
  const std::vector<AnchorLevel> levels{{{32, 64}, {0.5f, 1, 2}}, {{128}, {1}}};
  BOOST_TEST(levels[0].anchors_per_location() == 6);
  const std::vector<Box> a = multilevel_anchors(levels, {{4, 6}, {2, 3}}, 64, 96);
  BOOST_REQUIRE(a.size() == 4u * 6 * 6 + 2 * 3 * 1);
  // The second level starts after 144 anchors; stride 32: its (y=1, x=2) anchor.
  BOOST_TEST(same_box(a[144], {-64, -64, 64, 64}));
  BOOST_TEST(same_box(a[144 + 5], {0, -32, 128, 96}));
  BOOST_CHECK_THROW(multilevel_anchors(levels, {{4, 6}}, 64, 96), std::invalid_argument);
  BOOST_CHECK_THROW(multilevel_anchors(levels, {{4, 6}, {0, 3}}, 64, 96), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(matcher)

BOOST_AUTO_TEST_CASE(thresholds) {
  const Matcher m{0.7f, 0.3f, false};
  // gt x pred
  const std::vector<float> q{0.9f, 0.5f, 0.2f, 0.1f,
                             0.8f, 0.6f, 0.1f, 0.25f};
  BOOST_TEST(match_predictions(q, 2, 4, m) == std::vector<int>({0, -2, -1, -1}));
  // Boundaries: q == high is foreground, q == low is "between".
  BOOST_TEST(match_predictions({0.7f, 0.3f, 0.2999f}, 1, 3, m) == std::vector<int>({0, -2, -1}));
  // Equal quality for two ground truths: the lower index.
  BOOST_TEST(match_predictions({0.8f, 0.8f}, 2, 1, m) == std::vector<int>({0}));
  BOOST_TEST(match_predictions({}, 0, 3, m) == std::vector<int>({-1, -1, -1}));
  BOOST_CHECK_THROW(match_predictions(q, 2, 3, m), ShapeError);
  BOOST_CHECK_THROW(match_predictions(q, 2, 4, Matcher{0.3f, 0.7f, false}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(low_quality_matches_include_ties) {
  const std::vector<float> q{0.9f, 0.1f, 0.0f, 0.1f,
                             0.2f, 0.4f, 0.1f, 0.4f};
  BOOST_TEST(match_predictions(q, 2, 4, Matcher{0.7f, 0.3f, false}) ==
             std::vector<int>({0, -2, -1, -2}));
  // gt 1's best quality 0.4 is shared by predictions 1 and 3: both become matches.
  BOOST_TEST(match_predictions(q, 2, 4, Matcher{0.7f, 0.3f, true}) ==
             std::vector<int>({0, 1, -1, 1}));
  // A nominated prediction keeps its own best gt: gt 1's best is prediction 0 (0.8),
  // which stays with gt 0 (0.9), so gt 1 ends up without a match (as torchvision).
  const std::vector<float> q2{0.9f, 0.1f, 0.8f, 0.2f};
  BOOST_TEST(match_predictions(q2, 2, 2, Matcher{0.95f, 0.5f, true}) == std::vector<int>({0, -1}));
}

BOOST_AUTO_TEST_CASE(match_boxes_uses_iou) {
  const std::vector<Box> gt{{0, 0, 10, 10}};
  const std::vector<Box> anchors{{0, 0, 10, 10}, {5, 0, 15, 10}, {1, 0, 11, 10}, {40, 40, 50, 50}};
  // IoUs: 1, 1/3, 9/11 = 0.82, 0.
  BOOST_TEST(match_boxes(gt, anchors, Matcher{0.7f, 0.3f, false}) ==
             std::vector<int>({0, -2, 0, -1}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sampler)

BOOST_AUTO_TEST_CASE(counts_and_labels) {
  std::vector<int> labels;
  for (int i = 0; i < 120; ++i) labels.push_back(i < 10 ? 1 + i % 3 : i < 100 ? 0 : -1);
  Rng rng(5);
  const SampledIndices s = sample_balanced(labels, 32, 0.25f, rng);
  BOOST_TEST(s.positives.size() == 8u);    // 32 * 0.25
  BOOST_TEST(s.negatives.size() == 24u);
  for (int i : s.positives) BOOST_TEST(labels[i] >= 1);
  for (int i : s.negatives) BOOST_TEST(labels[i] == 0);
  BOOST_TEST(std::is_sorted(s.positives.begin(), s.positives.end()));
  BOOST_TEST(std::is_sorted(s.negatives.begin(), s.negatives.end()));
  BOOST_TEST((std::adjacent_find(s.negatives.begin(), s.negatives.end()) == s.negatives.end()));
  // Too few positives: negatives fill the batch. Too few of both: take all.
  const std::vector<int> few{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, -1, 1};
  const SampledIndices f = sample_balanced(few, 8, 0.5f, rng);
  BOOST_TEST(f.positives == std::vector<int>({0, 12, 14}));
  BOOST_TEST(f.negatives.size() == 5u);
  const SampledIndices all = sample_balanced(few, 100, 0.5f, rng);
  BOOST_TEST(all.positives.size() == 3u);
  BOOST_TEST(all.negatives.size() == 11u);
  BOOST_CHECK_THROW(sample_balanced(few, 8, 1.5f, rng), std::invalid_argument);
  BOOST_CHECK_THROW(sample_balanced(few, -1, 0.5f, rng), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(deterministic_and_roughly_uniform) {
  std::vector<int> labels(200, 0);
  for (int i = 0; i < 10; ++i) labels[i * 20] = 1;
  Rng a(99), b(99), c(100);
  const SampledIndices sa = sample_balanced(labels, 64, 0.125f, a);
  const SampledIndices sb = sample_balanced(labels, 64, 0.125f, b);
  const SampledIndices sc = sample_balanced(labels, 64, 0.125f, c);
  BOOST_TEST(sa.positives == sb.positives);
  BOOST_TEST(sa.negatives == sb.negatives);
  BOOST_TEST(sa.negatives != sc.negatives);
  // 8 of 10 positives per draw: each is picked with probability 0.8.
  std::vector<int> hits(labels.size(), 0);
  Rng r(3);
  for (int t = 0; t < 2000; ++t)
    for (int i : sample_balanced(labels, 64, 0.125f, r).positives) ++hits[i];
  for (int i = 0; i < 10; ++i) BOOST_TEST(std::abs(hits[i * 20] - 1600) < 100);
}

BOOST_AUTO_TEST_SUITE_END()
