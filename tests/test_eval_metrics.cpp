// Segmentation (confusion matrix, mIoU), pose (PCK, PDJ, PCP, joint error) and
// proposal (recall vs N, MABO) metrics on hand-computed cases.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "eval/pose_metrics.h"
#include "eval/proposal_metrics.h"
#include "eval/segmentation_metrics.h"

using namespace dl;

namespace {
bool near(double a, double b, double tol = 1e-12) { return std::abs(a - b) < tol; }
}  // namespace

BOOST_AUTO_TEST_SUITE(segmentation_metrics)

BOOST_AUTO_TEST_CASE(confusion_matrix_scores) {
  ConfusionMatrix cm(4);  // class 3 never occurs
  cm.add({0, 0, 0, 1, 1, 255, 2, 2}, {0, 0, 1, 1, 0, 2, 2, 1});
  BOOST_TEST(cm.total() == 7u);  // the void pixel is skipped
  BOOST_TEST(cm.at(0, 1) == 1u);
  BOOST_TEST(cm.at(2, 2) == 1u);
  SegmentationScores s = segmentation_scores(cm);
  BOOST_TEST(near(s.pixel_accuracy, 4.0 / 7.0));
  BOOST_TEST(near(s.class_iou[0], 0.5));   // 2 / (3 + 3 - 2)
  BOOST_TEST(near(s.class_iou[1], 0.25));  // 1 / (2 + 3 - 1)
  BOOST_TEST(near(s.class_iou[2], 0.5));   // 1 / (2 + 1 - 1)
  BOOST_TEST(std::isnan(s.class_iou[3]));
  BOOST_TEST(near(s.mean_iou, 1.25 / 3.0));  // class 3 left out
  BOOST_TEST(near(s.mean_class_accuracy, (2.0 / 3.0 + 0.5 + 0.5) / 3.0));
  BOOST_TEST(std::isnan(s.class_accuracy[3]));
  BOOST_TEST(near(s.frequency_weighted_iou, 3.0 / 7.0));
  // A class predicted but absent from the ground truth has IoU 0 and counts.
  cm.add({0}, {3});
  SegmentationScores s2 = segmentation_scores(cm);
  BOOST_TEST(s2.class_iou[3] == 0.0);
  BOOST_TEST(near(s2.mean_iou, (2.0 / 5.0 + 0.25 + 0.5 + 0.0) / 4.0));
  BOOST_TEST(std::isnan(s2.class_accuracy[3]));
}

BOOST_AUTO_TEST_CASE(ignore_label_and_errors) {
  ConfusionMatrix cm(2, 7);
  cm.add({7, 7, 1}, {0, 1, 1});
  BOOST_TEST(cm.total() == 1u);
  BOOST_TEST(segmentation_scores(cm).mean_iou == 1.0);
  BOOST_CHECK_THROW(cm.add({0, 1}, {0}), std::invalid_argument);
  BOOST_CHECK_THROW(cm.add({2}, {0}), std::invalid_argument);
  BOOST_CHECK_THROW(cm.add({0}, {7}), std::invalid_argument);  // ignore is for ground truth
  BOOST_CHECK_THROW(cm.at(2, 0), std::out_of_range);
  BOOST_CHECK_THROW(ConfusionMatrix(0), std::invalid_argument);
  SegmentationScores empty = segmentation_scores(ConfusionMatrix(3));
  BOOST_TEST(std::isnan(empty.pixel_accuracy));
  BOOST_TEST(std::isnan(empty.mean_iou));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pose_metrics)

// Joints: 0 left shoulder, 1 right hip (torso 50 px), 2 wrist, 3 ankle (unlabelled).
PoseSample sample() {
  PoseSample s;
  s.ground_truth = {0, 0, 2, 30, 40, 2, 10, 10, 1, 100, 100, 0};
  s.predicted = {3, 4, 30, 40, 10, 20, 0, 0};  // errors 5, 0, 10, (141)
  s.box = {0, 0, 40, 50};
  return s;
}

BOOST_AUTO_TEST_CASE(pck_torso_and_box) {
  std::vector<PoseSample> v{sample()};
  PoseScore t = pck(v, 0.2, PckNorm::Torso, {0, 1});  // threshold 10: all three
  BOOST_TEST(t.mean == 1.0);
  BOOST_TEST(t.counted == 3);
  BOOST_TEST(std::isnan(t.per_joint[3]));
  BOOST_TEST(near(pck(v, 0.1, PckNorm::Torso, {0, 1}).mean, 2.0 / 3.0));  // 5 <= 5 passes
  BOOST_TEST(near(pck(v, 0.1, PckNorm::Box).mean, 2.0 / 3.0));             // max(40, 50) = 50
  v[0].box = {};  // tight box of the labelled joints: 30 x 40
  BOOST_TEST(pck(v, 0.25, PckNorm::Box).mean == 1.0);
  BOOST_TEST(near(pck(v, 0.2, PckNorm::Box).mean, 2.0 / 3.0));
  // A sample whose torso joint is unlabelled cannot be torso-normalised.
  PoseSample no_torso = sample();
  no_torso.ground_truth[5] = 0;
  no_torso.predicted = {100, 100, 100, 100, 100, 100, 100, 100};
  v.push_back(no_torso);
  BOOST_TEST(pck(v, 0.2, PckNorm::Torso, {0, 1}).counted == 3);
  BOOST_TEST(pck(v, 0.2, PckNorm::Box).counted == 5);
}

BOOST_AUTO_TEST_CASE(pdj_is_strict_and_curves) {
  std::vector<PoseSample> v{sample()};
  BOOST_TEST(near(pdj(v, 0.2, {0, 1}).mean, 2.0 / 3.0));  // 10 < 10 fails
  const std::vector<double> curve = pdj_curve(v, {0.1, 0.2, 0.5}, {0, 1});
  BOOST_TEST(near(curve[0], 1.0 / 3.0));
  BOOST_TEST(near(curve[1], 2.0 / 3.0));
  BOOST_TEST(curve[2] == 1.0);
  BOOST_TEST(std::isnan(pdj({}, 0.2, {0, 1}).mean));
}

BOOST_AUTO_TEST_CASE(pcp_and_joint_error) {
  std::vector<PoseSample> v{sample()};
  // Limb 0-2 (length 14.1, half 7.07): wrist error 10 fails. Limb 0-1 (half 25) holds.
  // Limb 1-3 has an unlabelled end: not counted.
  PoseScore p = pcp(v, {{0, 2}, {0, 1}, {1, 3}});
  BOOST_TEST(p.per_joint[0] == 0.0);
  BOOST_TEST(p.per_joint[1] == 1.0);
  BOOST_TEST(std::isnan(p.per_joint[2]));
  BOOST_TEST(p.mean == 0.5);
  BOOST_TEST(p.counted == 2);
  PoseScore e = mean_joint_error(v);
  BOOST_TEST(e.per_joint[0] == 5.0);
  BOOST_TEST(e.per_joint[2] == 10.0);
  BOOST_TEST(std::isnan(e.per_joint[3]));
  BOOST_TEST(e.mean == 5.0);
}

BOOST_AUTO_TEST_CASE(bad_sizes_throw) {
  PoseSample s = sample();
  s.predicted.pop_back();
  BOOST_CHECK_THROW(pck({s}, 0.2, PckNorm::Box), std::invalid_argument);
  BOOST_CHECK_THROW(pck({sample()}, 0.2, PckNorm::Torso, {0, 4}), std::invalid_argument);
  BOOST_CHECK_THROW(pcp({sample()}, {{0, 9}}), std::invalid_argument);
  PoseSample three;
  three.ground_truth = {0, 0, 2, 1, 1, 2, 2, 2, 2};
  three.predicted = {0, 0, 1, 1, 2, 2};
  BOOST_CHECK_THROW(mean_joint_error({sample(), three}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(refinement_slope_by_hand) {
  // Joint 0 was 10 px off and moved half way; joint 1 was 5 px off and did not move;
  // joint 2 is not labelled.
  const std::vector<PoseSample> before = {
      {{0, 0, 3, 4, 50, 50}, {10, 0, 2, 0, 0, 2, 0, 0, 0}, Box{}}};
  const std::vector<std::vector<float>> after = {{5, 0, 3, 4, 0, 0}};
  PoseScore s = refinement_slope(before, after, 20.0);
  BOOST_TEST(s.mean == 50.0 / 125.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(s.per_joint[0] == 0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(s.per_joint[1] == 0.0);
  BOOST_TEST(std::isnan(s.per_joint[2]));
  BOOST_TEST(s.counted == 2);
  // Only joints with error < max_error count: 8 px leaves joint 1; at exactly 5 px none.
  s = refinement_slope(before, after, 8.0);
  BOOST_TEST(s.mean == 0.0);
  BOOST_TEST(s.counted == 1);
  s = refinement_slope(before, after, 5.0);
  BOOST_TEST(std::isnan(s.mean));
  BOOST_TEST(s.counted == 0);
  BOOST_CHECK_THROW(refinement_slope(before, {}, 8.0), std::invalid_argument);
  BOOST_CHECK_THROW(refinement_slope(before, {{1, 2}}, 8.0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(proposal_metrics)

std::vector<ProposalImage> images() {
  ProposalImage a, b;
  a.ground_truth = {{0, 0, 10, 10}, {20, 20, 40, 40}};
  a.labels = {1, 2};
  a.proposals = {{0, 0, 10, 8}, {20, 20, 40, 35}, {0, 0, 10, 10}};  // IoU .8, .75 (B), 1
  b.ground_truth = {{0, 0, 10, 10}};
  b.labels = {1};
  b.proposals = {{5, 0, 15, 10}};  // IoU 1/3
  return {a, b};
}

BOOST_AUTO_TEST_CASE(recall_against_number_of_proposals) {
  const auto im = images();
  BOOST_TEST(near(proposal_recall(im, 1, 0.5f), 1.0 / 3.0));
  BOOST_TEST(near(proposal_recall(im, 2, 0.5f), 2.0 / 3.0));
  BOOST_TEST(near(proposal_recall(im, -1, 0.8f), 1.0 / 3.0));  // .8 reached only by A
  BOOST_TEST(proposal_recall(im, 0, 0.5f) == 0.0);
  ProposalRecallCurve c = proposal_recall_curve(im, {1, 2, 100});
  BOOST_TEST(near(c.recall_50[0], 1.0 / 3.0));
  BOOST_TEST(near(c.recall_50[2], 2.0 / 3.0));
  BOOST_TEST(near(c.recall_70[1], 2.0 / 3.0));
  BOOST_TEST(proposal_recall({}, 10, 0.5f) == 0.0);
  BOOST_TEST(proposal_recall({ProposalImage{{}, {{0, 0, 1, 1}}, {}}}, 10, 0.5f) == 0.0);
}

BOOST_AUTO_TEST_CASE(mean_average_best_overlap) {
  auto im = images();
  MaboResult all = mabo(im);
  BOOST_TEST(all.class_ids == std::vector<int>({1, 2}));
  BOOST_TEST(near(all.class_abo[0], (1.0 + 1.0 / 3.0) / 2.0, 1e-6));
  BOOST_TEST(near(all.class_abo[1], 0.75, 1e-6));
  BOOST_TEST(near(all.mabo, ((1.0 + 1.0 / 3.0) / 2.0 + 0.75) / 2.0, 1e-6));
  BOOST_TEST(near(mabo(im, 1).mabo, ((0.8 + 1.0 / 3.0) / 2.0 + 0.0) / 2.0, 1e-6));
  for (auto& i : im) i.labels.clear();  // one class: the plain average best overlap
  BOOST_TEST(near(mabo(im).mabo, (1.0 + 0.75 + 1.0 / 3.0) / 3.0, 1e-6));
  BOOST_TEST(mabo({}).mabo == 0.0);
  im[0].labels = {1};
  BOOST_CHECK_THROW(mabo(im), std::invalid_argument);
  BOOST_CHECK_THROW(proposal_recall(im, 1, 0.5f), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
