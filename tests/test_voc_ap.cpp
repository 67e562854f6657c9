// PASCAL VOC AP (11-point and all-point) and per-class matching, hand-computed; the
// shared detection table's layout.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "eval/detection_table.h"
#include "eval/voc_ap.h"

using namespace dl;

namespace {
bool near(double a, double b) { return std::abs(a - b) < 1e-12; }
VocDetection det(int64_t image, Box b, float score) { return {image, b, score}; }
VocGroundTruth obj(int64_t image, Box b, bool difficult = false) { return {image, b, difficult}; }
}  // namespace

BOOST_AUTO_TEST_SUITE(voc_average_precision)

BOOST_AUTO_TEST_CASE(ap_from_curve) {
  const std::vector<double> rec{0.5, 0.5, 1.0}, prec{1.0, 0.5, 2.0 / 3.0};
  // All points: envelope [1, 2/3, 2/3]; area 0.5 * 1 + 0.5 * 2/3.
  BOOST_TEST(near(voc_ap_all_points(rec, prec), 0.5 + 0.5 * 2.0 / 3.0));
  // 11 points: recall levels 0..0.5 see 1, 0.6..1 see 2/3.
  BOOST_TEST(near(voc_ap_11point(rec, prec), (6.0 + 5.0 * 2.0 / 3.0) / 11.0));
  BOOST_TEST(voc_ap(rec, prec, VocApMethod::ElevenPoint) == voc_ap_11point(rec, prec));
  // A curve that never reaches recall 1: the rest counts as precision 0.
  BOOST_TEST(near(voc_ap_all_points({0.25}, {1.0}), 0.25));
  BOOST_TEST(near(voc_ap_11point({0.25}, {1.0}), 3.0 / 11.0));  // levels 0, .1, .2
  BOOST_TEST(voc_ap_all_points({}, {}) == 0.0);
  BOOST_TEST(voc_ap_11point({}, {}) == 0.0);
  BOOST_CHECK_THROW(voc_ap_all_points({0.5}, {}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(duplicates_difficult_and_misses) {
  std::vector<VocGroundTruth> gt{obj(1, {0, 0, 10, 10}), obj(1, {20, 20, 30, 30}, true),
                                 obj(2, {0, 0, 10, 10})};
  std::vector<VocDetection> dets{
      det(2, {0, 0, 10, 6}, 0.5f),     // IoU 0.6 with the object of image 2: TP
      det(1, {0, 0, 10, 10}, 0.9f),    // TP
      det(1, {1, 0, 11, 10}, 0.8f),    // IoU 90/110 with the same object: duplicate, FP
      det(1, {20, 20, 30, 30}, 0.7f),  // difficult: ignored
      det(2, {50, 50, 60, 60}, 0.6f)}; // nothing there: FP
  VocClassResult r = voc_evaluate_class(dets, gt);
  BOOST_TEST(r.num_gt == 2);
  BOOST_TEST(r.tp == 2);
  BOOST_TEST(r.fp == 2);
  BOOST_TEST(r.recall == std::vector<double>({0.5, 0.5, 0.5, 1.0}));
  BOOST_TEST(near(r.precision[2], 1.0 / 3.0));
  BOOST_TEST(r.precision[3] == 0.5);
  BOOST_TEST(near(r.ap, 0.5 * 1.0 + 0.5 * 0.5));
  VocClassResult r11 = voc_evaluate_class(dets, gt, 0.5f, VocApMethod::ElevenPoint);
  BOOST_TEST(near(r11.ap, (6.0 + 5.0 * 0.5) / 11.0));
}

BOOST_AUTO_TEST_CASE(threshold_is_strict_and_ties_keep_input_order) {
  std::vector<VocGroundTruth> gt{obj(1, {0, 0, 10, 10})};
  VocClassResult half = voc_evaluate_class({det(1, {0, 0, 10, 5}, 0.9f)}, gt);  // IoU exactly .5
  BOOST_TEST(half.tp == 0);
  BOOST_TEST(half.fp == 1);
  BOOST_TEST(half.ap == 0.0);
  BOOST_TEST(voc_evaluate_class({det(1, {0, 0, 10, 5}, 0.9f)}, gt, 0.49f).tp == 1);
  // Equal scores: the first listed takes the object, even though the second fits better.
  VocClassResult tie = voc_evaluate_class(
      {det(1, {0, 0, 10, 6}, 0.7f), det(1, {0, 0, 10, 10}, 0.7f)}, gt);
  BOOST_TEST(tie.precision == std::vector<double>({1.0, 0.5}));
}

BOOST_AUTO_TEST_CASE(empty_predictions_and_empty_ground_truth) {
  std::vector<VocGroundTruth> gt{obj(1, {0, 0, 10, 10}), obj(2, {0, 0, 10, 10})};
  VocClassResult none = voc_evaluate_class({}, gt);
  BOOST_TEST(none.ap == 0.0);
  BOOST_TEST(none.num_gt == 2);
  BOOST_TEST(none.tp + none.fp == 0);
  VocClassResult no_gt = voc_evaluate_class({det(1, {0, 0, 10, 10}, 0.9f)}, {});
  BOOST_TEST(no_gt.ap == -1.0);
  BOOST_TEST(no_gt.fp == 1);
  // Only difficult objects: nothing to find, the class has no AP.
  BOOST_TEST(voc_evaluate_class({det(1, {0, 0, 10, 10}, 0.9f)}, {obj(1, {0, 0, 10, 10}, true)}).ap == -1.0);
  // The mean leaves classes without ground truth out.
  BOOST_TEST(voc_mean_ap({none, no_gt}) == 0.0);
  VocClassResult perfect = voc_evaluate_class({det(1, {0, 0, 10, 10}, 0.9f)}, {obj(1, {0, 0, 10, 10})});
  BOOST_TEST(perfect.ap == 1.0);
  BOOST_TEST(voc_mean_ap({perfect, none, no_gt}) == 0.5);
  BOOST_TEST(voc_mean_ap({no_gt}) == -1.0);
}

BOOST_AUTO_TEST_CASE(coco_format_input) {
  CocoDataset gt;
  gt.images.push_back({1, "a.png", 100, 100});
  gt.categories = {{5, "bag", "", {}, {}}, {2, "shirt", "", {}, {}}};
  auto ann = [](int64_t cat, std::array<double, 4> b, bool crowd, double score) {
    CocoAnnotation a;
    a.image_id = 1, a.category_id = cat, a.bbox = b, a.iscrowd = crowd, a.score = score;
    return a;
  };
  gt.annotations = {ann(2, {0, 0, 10, 10}, false, -1), ann(2, {50, 50, 40, 40}, true, -1),
                    ann(5, {20, 20, 10, 10}, false, -1)};
  std::vector<CocoAnnotation> res{ann(2, {60, 60, 20, 20}, false, 0.9),  // in the crowd: ignored
                                  ann(2, {0, 0, 10, 10}, false, 0.8),
                                  ann(5, {0, 0, 10, 10}, false, 0.7),     // wrong place: FP
                                  ann(8, {20, 20, 10, 10}, false, 0.6)};  // unknown category
  // The crowd box has IoU 400/1600 < .5 with the first result: VOC does not absorb it.
  std::vector<VocClassResult> r = voc_evaluate(gt, res);
  BOOST_TEST(r.size() == 2u);  // id order: shirt (2), bag (5)
  BOOST_TEST(r[0].num_gt == 1);
  BOOST_TEST(r[0].tp == 1);
  BOOST_TEST(r[0].fp == 1);
  BOOST_TEST(r[0].ap == 0.5);
  BOOST_TEST(r[1].tp == 0);
  BOOST_TEST(r[1].fp == 1);
  BOOST_TEST(r[1].ap == 0.0);
  res[0].bbox = {50, 50, 40, 40};  // now on the crowd region itself: ignored
  BOOST_TEST(voc_evaluate(gt, res)[0].ap == 1.0);
}

BOOST_AUTO_TEST_CASE(detection_table_layout) {
  std::vector<VocClassResult> per_class(3);
  per_class[0].ap = 0.75, per_class[0].tp = 2, per_class[0].fp = 2, per_class[0].num_gt = 2;
  per_class[1].ap = 1.0, per_class[1].tp = 1, per_class[1].num_gt = 1;
  per_class[2].fp = 4;  // no ground truth
  DetectionTable t = voc_detection_table(per_class, {"t-shirt", "ankle boot", "bag"});
  t.title = "demo";
  const std::string want =
      "demo\n"
      " id  class          AP50       TP       FP       GT\n"
      "---------------------------------------------------\n"
      "  0  t-shirt      75.00%        2        2        2\n"
      "  1  ankle boot  100.00%        1        0        1\n"
      "  2  bag               -        0        4        0\n"
      "mean average precision (mAP@0.50) = 0.8750, or 87.50 %\n";
  BOOST_TEST(format_detection_table(t) == want);
}

BOOST_AUTO_TEST_SUITE_END()
