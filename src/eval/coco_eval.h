// COCO detection evaluation (Lin et al. 2014, cocodataset.org/#detection-eval),
// reproducing the rules of the reference implementation, pycocotools' COCOeval:
//  - AP is averaged over IoU thresholds .50:.05:.95 and 101 recall points 0:.01:1,
//    using the precision envelope (interpolated precision, non-increasing in recall);
//  - per image and category the highest-scoring detections (at most maxDets, 100) are
//    matched greedily, best score first, each to the still-free ground truth with
//    the highest IoU >= threshold, preferring regular ground truth over ignored;
//  - crowd regions (iscrowd) are ignored ground truth whose IoU divides by the
//    detection's area only; they can absorb any number of detections; detections
//    matched to ignored ground truth count neither as TP nor FP;
//  - for an area range, ground truth outside it is ignored, and so are unmatched
//    detections outside it (area: ground truth's stored "area", detection's box w*h
//    for bbox, mask area for segm);
//  - each number is the mean over categories that have (non-ignored) ground truth;
//    -1 when no category has any.
// Detections on images absent from the ground truth raise an error (as loadRes
// asserts). pycocotools takes a segm detection's area from its box when the results
// file carries boxes; see CocoEvalParams::segm_area_from_box.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/coco.h"

namespace dl {

enum class CocoIouType { BBox, Segm };

struct CocoEvalParams {
  CocoIouType iou_type = CocoIouType::BBox;
  std::vector<double> iou_thresholds;  // .50:.05:.95, computed exactly as numpy's linspace
  std::vector<double> recall_thresholds;  // 0:.01:1
  std::vector<int> max_dets{1, 10, 100};
  std::vector<std::array<double, 2>> area_ranges{
      {0.0, 1e10}, {0.0, 32.0 * 32.0}, {32.0 * 32.0, 96.0 * 96.0}, {96.0 * 96.0, 1e10}};
  std::vector<std::string> area_labels{"all", "small", "medium", "large"};
  // segm only: a detection's area (which decides whether an unmatched detection
  // counts in an area range) is its mask area, unless this is set: then it is its box
  // w*h, as pycocotools' loadRes does for results that have a "bbox" field (Mask R-CNN
  // output usually has both). Set it to reproduce pycocotools on such files.
  bool segm_area_from_box = false;

  explicit CocoEvalParams(CocoIouType type = CocoIouType::BBox);
};

struct CocoEvalResult {
  CocoEvalParams params;
  // AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (pycocotools' stats).
  std::array<double, 12> stats{};
  std::vector<int64_t> category_ids;  // sorted, as the columns below
  // Per category at area "all", maxDets 100: AP@[.5:.95] and AP@.5 (-1 without ground
  // truth); TP and FP of the counted detections at IoU .5; non-ignored ground truth.
  std::vector<double> class_ap, class_ap50;
  std::vector<int> class_tp50, class_fp50, class_num_gt;
  // precision[t][r][k][a][m] and recall[t][k][a][m], row-major, -1 where undefined.
  std::vector<double> precision, recall;

  double precision_at(int t, int r, int k, int a, int m) const;
  double recall_at(int t, int k, int a, int m) const;
};

// Evaluates `results` (detections with scores, e.g. from read_coco_results) against
// the ground truth. Throws std::invalid_argument when a result names an image absent
// from the ground truth, or when iou_type is Segm and an annotation has no mask.
CocoEvalResult coco_evaluate(const CocoDataset& ground_truth,
                             const std::vector<CocoAnnotation>& results,
                             const CocoEvalParams& params);
CocoEvalResult coco_evaluate(const CocoDataset& ground_truth,
                             const std::vector<CocoAnnotation>& results,
                             CocoIouType iou_type = CocoIouType::BBox);

// pycocotools' box IoU (maskApi's bbIou) for [x, y, w, h] boxes, in double.
double coco_box_iou(const std::array<double, 4>& dt, const std::array<double, 4>& gt,
                    bool gt_iscrowd);

// The 12 lines COCOeval.summarize() prints.
std::string coco_summary(const CocoEvalResult& result);

}  // namespace dl
