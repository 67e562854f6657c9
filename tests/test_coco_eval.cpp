// COCO evaluation: hand-computed cases (empty predictions, empty ground truth,
// duplicates, crowd regions, area ranges, maxDets) and golden files produced by
// pycocotools' COCOeval (tools/golden/make_cocoeval_golden.py).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <nlohmann/json.hpp>

#include "eval/coco_eval.h"
#include "eval/detection_table.h"
#include "util/files.h"

using namespace dl;

namespace {

CocoAnnotation box_ann(int64_t id, int64_t image, int64_t cat, std::array<double, 4> b,
                       bool crowd = false, double score = -1) {
  CocoAnnotation a;
  a.id = id;
  a.image_id = image;
  a.category_id = cat;
  a.bbox = b;
  a.area = b[2] * b[3];
  a.iscrowd = crowd;
  a.score = score;
  return a;
}

// pycocotools divides by tp + fp + eps, so a perfect precision is 1 - 2e-16.
bool near(double a, double b) { return std::abs(a - b) < 1e-12; }

CocoDataset one_image(std::vector<CocoAnnotation> anns, int categories = 1) {
  CocoDataset d;
  d.images.push_back({1, "a.png", 300, 300});
  for (int c = 1; c <= categories; ++c) d.categories.push_back({c, "c" + std::to_string(c), "", {}, {}});
  d.annotations = std::move(anns);
  return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(coco_eval)

BOOST_AUTO_TEST_CASE(thresholds_match_numpy_linspace) {
  CocoEvalParams p;
  BOOST_TEST(p.iou_thresholds.size() == 10u);
  BOOST_TEST(p.recall_thresholds.size() == 101u);
  BOOST_TEST(p.iou_thresholds[0] == 0.5);
  BOOST_TEST(p.iou_thresholds[5] == 0.75);  // summarize() looks AP75 up by equality
  BOOST_TEST(p.iou_thresholds[9] == 0.95);
  BOOST_TEST(p.recall_thresholds[50] == 0.5);
  BOOST_TEST(p.recall_thresholds[100] == 1.0);
}

BOOST_AUTO_TEST_CASE(box_iou_divides_by_detection_area_for_crowds) {
  const std::array<double, 4> dt{0, 0, 10, 10}, gt{5, 0, 100, 100};
  BOOST_TEST(coco_box_iou(dt, gt, true) == 0.5);
  BOOST_TEST(coco_box_iou(dt, gt, false) == 50.0 / (100 + 10000 - 50));
  BOOST_TEST(coco_box_iou({0, 0, 10, 10}, {10, 0, 10, 10}, false) == 0.0);  // touching
}

BOOST_AUTO_TEST_CASE(perfect_detection_is_one_and_other_areas_undefined) {
  CocoDataset gt = one_image({box_ann(1, 1, 1, {10, 10, 50, 50})});  // 2500: medium
  CocoEvalResult r = coco_evaluate(gt, {box_ann(0, 1, 1, {10, 10, 50, 50}, false, 0.9)});
  const std::array<double, 12> want{1, 1, 1, -1, 1, -1, 1, 1, 1, -1, 1, -1};
  for (int i = 0; i < 12; ++i) BOOST_TEST(near(r.stats[i], want[i]), "stat " << i);
  BOOST_TEST(near(r.class_ap[0], 1.0));
  BOOST_TEST(r.class_tp50[0] == 1);
  BOOST_TEST(r.class_fp50[0] == 0);
  BOOST_TEST(r.class_num_gt[0] == 1);
}

BOOST_AUTO_TEST_CASE(empty_predictions_give_zero) {
  CocoDataset gt = one_image({box_ann(1, 1, 1, {10, 10, 50, 50})});
  CocoEvalResult r = coco_evaluate(gt, {});
  BOOST_TEST(r.stats[0] == 0.0);
  BOOST_TEST(r.stats[8] == 0.0);
  BOOST_TEST(r.stats[3] == -1.0);  // no small ground truth
  BOOST_TEST(r.class_ap[0] == 0.0);
}

BOOST_AUTO_TEST_CASE(empty_ground_truth_gives_minus_one) {
  CocoDataset gt = one_image({});
  CocoEvalResult r = coco_evaluate(gt, {box_ann(0, 1, 1, {10, 10, 50, 50}, false, 0.9)});
  for (int i = 0; i < 12; ++i) BOOST_TEST(r.stats[i] == -1.0);
  BOOST_TEST(r.class_ap[0] == -1.0);
  // A category without ground truth does not pull the mean down.
  CocoDataset gt2 = one_image({box_ann(1, 1, 1, {10, 10, 50, 50})}, 2);
  CocoEvalResult r2 = coco_evaluate(gt2, {box_ann(0, 1, 1, {10, 10, 50, 50}, false, 0.9),
                                          box_ann(0, 1, 2, {100, 100, 50, 50}, false, 0.8)});
  BOOST_TEST(near(r2.stats[0], 1.0));
  BOOST_TEST(r2.class_ap[1] == -1.0);
}

BOOST_AUTO_TEST_CASE(duplicate_detection_is_a_false_positive) {
  // Two objects; the object A is found twice before B is found.
  CocoDataset gt = one_image({box_ann(1, 1, 1, {10, 10, 50, 50}), box_ann(2, 1, 1, {150, 150, 50, 50})});
  CocoEvalResult r = coco_evaluate(gt, {box_ann(0, 1, 1, {10, 10, 50, 50}, false, 0.9),
                                        box_ann(0, 1, 1, {10, 10, 50, 50}, false, 0.8),
                                        box_ann(0, 1, 1, {150, 150, 50, 50}, false, 0.7)});
  // recall [.5, .5, 1], precision [1, .5, 2/3] -> envelope [1, 2/3, 2/3]: the 51 recall
  // points 0..0.50 see 1, the 50 points 0.51..1 see 2/3.
  const double want = (51.0 + 50.0 * (2.0 / 3.0)) / 101.0;
  BOOST_TEST(std::abs(r.stats[0] - want) < 1e-12);
  BOOST_TEST(r.class_tp50[0] == 2);
  BOOST_TEST(r.class_fp50[0] == 1);
  BOOST_TEST(r.stats[8] == 1.0);
}

BOOST_AUTO_TEST_CASE(crowd_regions_absorb_detections_without_penalty) {
  CocoDataset gt = one_image({box_ann(1, 1, 1, {0, 0, 10, 10}),  // area 100: small
                              box_ann(2, 1, 1, {100, 100, 100, 100}, true)});
  std::vector<CocoAnnotation> dts{box_ann(0, 1, 1, {110, 110, 20, 20}, false, 0.95),
                                  box_ann(0, 1, 1, {150, 150, 20, 20}, false, 0.9),
                                  box_ann(0, 1, 1, {0, 0, 10, 10}, false, 0.5)};
  CocoEvalResult r = coco_evaluate(gt, dts);
  BOOST_TEST(near(r.stats[0], 1.0));
  BOOST_TEST(r.class_tp50[0] == 1);
  BOOST_TEST(r.class_fp50[0] == 0);
  BOOST_TEST(r.class_num_gt[0] == 1);
  // The same region as a regular object: both detections in it become FPs ranked
  // above the TP (IoU 400/10000 < .5), and the region is a missed object.
  gt.annotations[1].iscrowd = false;
  CocoEvalResult r2 = coco_evaluate(gt, dts);
  // recall [0, 0, .5], precision [0, 0, 1/3] -> 51 points at 1/3, the rest 0.
  BOOST_TEST(std::abs(r2.stats[1] - 51.0 / 3.0 / 101.0) < 1e-12);
  BOOST_TEST(r2.class_fp50[0] == 2);
}

BOOST_AUTO_TEST_CASE(regular_ground_truth_is_preferred_over_a_better_crowd_match) {
  // The detection has IoU .6 with the object and 1 with the crowd region around it
  // (crowd IoU divides by the detection's area). Up to threshold .60 it matches the
  // object (regular ground truth comes first and ends the search); from .65 on only
  // the crowd region qualifies, and the detection is ignored: the object is missed.
  CocoDataset gt = one_image({box_ann(1, 1, 1, {0, 0, 100, 100}, true),
                              box_ann(2, 1, 1, {0, 0, 10, 10})});
  CocoEvalResult r = coco_evaluate(gt, {box_ann(0, 1, 1, {0, 0, 10, 6}, false, 0.9)});
  BOOST_TEST(near(r.stats[1], 1.0));       // AP50
  BOOST_TEST(r.stats[2] == 0.0);           // AP75
  BOOST_TEST(near(r.stats[0], 3.0 / 10.0));  // 3 of 10 thresholds
  BOOST_TEST(near(r.stats[8], 3.0 / 10.0));
  BOOST_TEST(r.class_tp50[0] == 1);
}

BOOST_AUTO_TEST_CASE(area_ranges_ignore_out_of_range_objects_and_detections) {
  CocoDataset gt = one_image({box_ann(1, 1, 1, {0, 0, 10, 10}),       // small
                              box_ann(2, 1, 1, {100, 100, 120, 120})});  // large
  std::vector<CocoAnnotation> dts{box_ann(0, 1, 1, {0, 0, 10, 10}, false, 0.9),
                                  box_ann(0, 1, 1, {200, 0, 50, 50}, false, 0.95)};  // medium FP
  CocoEvalResult r = coco_evaluate(gt, dts);
  BOOST_TEST(near(r.stats[3], 1.0));   // small: the medium FP is out of range, ignored
  BOOST_TEST(r.stats[4] == -1.0);  // medium: no ground truth
  BOOST_TEST(r.stats[5] == 0.0);   // large: missed
  BOOST_TEST(r.stats[9] == 1.0);
  BOOST_TEST(r.stats[11] == 0.0);
  // all: FP (0.95) then TP: recall [0, .5], precision [0, .5] -> 51 points at .5.
  BOOST_TEST(std::abs(r.stats[0] - 51.0 * 0.5 / 101.0) < 1e-12);
}

BOOST_AUTO_TEST_CASE(max_dets_limits_recall) {
  CocoDataset gt = one_image({box_ann(1, 1, 1, {10, 10, 50, 50}), box_ann(2, 1, 1, {150, 150, 50, 50})});
  CocoEvalResult r = coco_evaluate(gt, {box_ann(0, 1, 1, {10, 10, 50, 50}, false, 0.9),
                                        box_ann(0, 1, 1, {150, 150, 50, 50}, false, 0.8)});
  BOOST_TEST(r.stats[6] == 0.5);  // AR@1
  BOOST_TEST(r.stats[7] == 1.0);  // AR@10
  BOOST_TEST(near(r.stats[0], 1.0));
}

BOOST_AUTO_TEST_CASE(segm_uses_masks_and_crowd_rule) {
  CocoDataset gt = one_image({});
  gt.images[0].width = 4, gt.images[0].height = 4;
  Mask m(4, 4);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) m.at(x, y) = 1;  // top half: 8 pixels
  CocoAnnotation g = box_ann(1, 1, 1, {0, 0, 4, 2});
  g.area = 8;
  g.segmentation.kind = CocoSegmentation::Kind::Rle;
  g.segmentation.rle = rle_encode(m);
  gt.annotations.push_back(g);
  Mask dm(4, 4);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 2; ++x) dm.at(x, y) = 1;  // left half: IoU 4 / 12
  CocoAnnotation d = box_ann(0, 1, 1, {0, 0, 2, 4}, false, 0.9);
  d.segmentation.kind = CocoSegmentation::Kind::Rle;
  d.segmentation.rle = rle_encode(dm);
  BOOST_TEST(coco_evaluate(gt, {d}, CocoIouType::Segm).stats[1] == 0.0);
  BOOST_TEST(coco_evaluate(gt, {d}, CocoIouType::BBox).stats[1] == 0.0);
  gt.annotations[0].iscrowd = true;  // IoU 4 / 8 = .5: absorbed, nothing left to count
  BOOST_TEST(coco_evaluate(gt, {d}, CocoIouType::Segm).stats[1] == -1.0);
  CocoAnnotation no_mask = box_ann(0, 1, 1, {0, 0, 2, 4}, false, 0.9);
  BOOST_CHECK_THROW(coco_evaluate(gt, {no_mask}, CocoIouType::Segm), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(result_on_unknown_image_throws) {
  CocoDataset gt = one_image({box_ann(1, 1, 1, {10, 10, 50, 50})});
  BOOST_CHECK_THROW(coco_evaluate(gt, {box_ann(0, 99, 1, {10, 10, 50, 50}, false, 0.9)}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(summary_has_pycocotools_layout) {
  CocoDataset gt = one_image({box_ann(1, 1, 1, {10, 10, 50, 50})});
  const std::string s = coco_summary(coco_evaluate(gt, {box_ann(0, 1, 1, {10, 10, 50, 50}, false, 0.9)}));
  BOOST_TEST(s.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000\n") == 0u);
  BOOST_TEST(s.find(" Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000") !=
             std::string::npos);
}

void check_golden(const std::string& name, const CocoEvalParams& params) {
  const std::string dir = std::string(DETLAB_SOURCE_DIR) + "/tests/golden/cocoeval/";
  const CocoDataset gt = read_coco(dir + name + "_gt.json");
  const std::vector<CocoAnnotation> res = read_coco_results(dir + name + "_results.json");
  const nlohmann::json want = nlohmann::json::parse(read_file_text(dir + name + "_expected.json"));
  const CocoEvalResult r = coco_evaluate(gt, res, params);
  for (int i = 0; i < 12; ++i)
    BOOST_TEST(std::abs(r.stats[i] - want["stats"][i].get<double>()) < 1e-6,
               name << " stat " << i << ": " << r.stats[i] << " vs " << want["stats"][i]);
  BOOST_TEST(r.category_ids == want["category_ids"].get<std::vector<int64_t>>());
  const size_t K = r.category_ids.size();
  for (size_t k = 0; k < K; ++k) {
    BOOST_TEST(std::abs(r.class_ap[k] - want["class_ap"][k].get<double>()) < 1e-6, name << " AP class " << k);
    BOOST_TEST(std::abs(r.class_ap50[k] - want["class_ap50"][k].get<double>()) < 1e-6);
    for (int q = 0; q < 101; ++q)
      BOOST_TEST(std::abs(r.precision_at(0, q, k, 0, 2) -
                          want["precision_iou50_all_100"][k][q].get<double>()) < 1e-12,
                 name << " precision class " << k << " recall point " << q);
    for (int t = 0; t < 10; ++t)
      BOOST_TEST(std::abs(r.recall_at(t, k, 0, 2) - want["recall_all_100"][t][k].get<double>()) < 1e-12);
  }
  // Not a trivial golden: some detections are right, many are not.
  BOOST_TEST(r.stats[0] > 0.1);
  BOOST_TEST(r.stats[0] < 0.9);
}

BOOST_AUTO_TEST_CASE(bbox_matches_pycocotools) { check_golden("bbox", CocoEvalParams(CocoIouType::BBox)); }
BOOST_AUTO_TEST_CASE(segm_matches_pycocotools) { check_golden("segm", CocoEvalParams(CocoIouType::Segm)); }
BOOST_AUTO_TEST_CASE(segm_with_boxes_matches_pycocotools) {
  CocoEvalParams p(CocoIouType::Segm);
  p.segm_area_from_box = true;  // the results carry boxes: loadRes's rule
  check_golden("segm_with_boxes", p);
  // With mask areas the medium range differs (pycocotools 0.3929 vs 0.4122).
  const std::string dir = std::string(DETLAB_SOURCE_DIR) + "/tests/golden/cocoeval/";
  const CocoEvalResult masks = coco_evaluate(read_coco(dir + "segm_with_boxes_gt.json"),
                                             read_coco_results(dir + "segm_with_boxes_results.json"),
                                             CocoIouType::Segm);
  BOOST_TEST(std::abs(masks.stats[4] - 0.3929) > 0.01);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(coco_table)

BOOST_AUTO_TEST_CASE(coco_detection_table_rows_and_summary) {
  CocoDataset gt;
  gt.images.push_back({1, "a.png", 300, 300});
  gt.categories = {{1, "shirt", "", {}, {}}, {2, "bag", "", {}, {}}};
  CocoAnnotation g;
  g.id = 1, g.image_id = 1, g.category_id = 1, g.bbox = {10, 10, 50, 50}, g.area = 2500;
  gt.annotations = {g};
  CocoAnnotation d = g;
  d.score = 0.9;
  CocoAnnotation fp = d;
  fp.bbox = {200, 200, 20, 20};
  fp.score = 0.5;
  DetectionTable t = coco_detection_table(coco_evaluate(gt, {d, fp}), {"shirt"});
  BOOST_TEST(t.rows.size() == 2u);
  BOOST_TEST(t.rows[0].name == "shirt");
  BOOST_TEST(t.rows[0].tp == 1);
  BOOST_TEST(t.rows[0].fp == 1);
  BOOST_TEST(t.rows[0].num_gt == 1);
  BOOST_TEST(t.rows[1].name == "2");  // no name given: the category id
  BOOST_TEST(t.rows[1].ap == -1.0);
  const std::string s = format_detection_table(t);
  BOOST_TEST(s.find("  0  shirt  100.00%        1        1        1\n") != std::string::npos, s);
  BOOST_TEST(s.find("  1  2            -        0        0        0\n") != std::string::npos, s);
  BOOST_TEST(s.find("AP small        = -\n") != std::string::npos, s);
  BOOST_TEST(s.find("AP medium       = 1.0000\n") != std::string::npos, s);
}

BOOST_AUTO_TEST_SUITE_END()
