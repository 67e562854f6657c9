// PASCAL VOC average precision (Everingham et al. 2010, "The PASCAL Visual Object
// Classes (VOC) Challenge", §4.2): detections of one class, ranked by score, are
// matched greedily to ground truth at IoU > 0.5; AP summarises the resulting
// precision/recall curve.
//
// Two summaries exist. VOC2007 averaged the interpolated precision at the 11 recall
// levels 0, 0.1, ..., 1; from VOC2010 on, the area under the interpolated curve is
// taken at every recall level where it changes ("all points"). Interpolated
// precision at recall r is the maximum precision at any recall >= r.
#pragma once
#include <cstdint>
#include <vector>

#include "data/coco.h"
#include "detection/boxes.h"

namespace dl {

enum class VocApMethod { ElevenPoint, AllPoints };

// recall and precision are the curve after each ranked detection (same length,
// recall non-decreasing). An empty curve has AP 0. Throws std::invalid_argument when
// the lengths differ.
double voc_ap_11point(const std::vector<double>& recall, const std::vector<double>& precision);
double voc_ap_all_points(const std::vector<double>& recall, const std::vector<double>& precision);
double voc_ap(const std::vector<double>& recall, const std::vector<double>& precision,
              VocApMethod method);

struct VocDetection {
  int64_t image_id = 0;
  Box box;
  float score = 0;
};

struct VocGroundTruth {
  int64_t image_id = 0;
  Box box;
  bool difficult = false;  // neither rewarded when found nor penalised when missed
};

struct VocClassResult {
  double ap = -1;  // -1 when the class has no (non-difficult) ground truth
  int tp = 0, fp = 0;
  int num_gt = 0;  // non-difficult ground truth objects
  std::vector<double> recall, precision;  // after each counted detection
};

// Per-class evaluation as the VOC devkit does it: detections sorted by score (ties
// keep their input order); each takes the ground truth of its image with the highest
// IoU; if that IoU > iou_threshold the detection is a TP unless that object was
// already taken (a duplicate: FP) or is difficult (ignored: neither TP nor FP);
// otherwise it is an FP. IoU uses detlab's continuous-pixel boxes (no VOC "+1").
VocClassResult voc_evaluate_class(const std::vector<VocDetection>& detections,
                                  const std::vector<VocGroundTruth>& ground_truth,
                                  float iou_threshold = 0.5f,
                                  VocApMethod method = VocApMethod::AllPoints);

// VOC evaluation of COCO-format data, one result per category of the ground truth in
// ascending id order (the order of CocoEvalResult::category_ids). Crowd regions play
// VOC's "difficult" role. Results of unknown categories are skipped.
std::vector<VocClassResult> voc_evaluate(const CocoDataset& ground_truth,
                                         const std::vector<CocoAnnotation>& results,
                                         float iou_threshold = 0.5f,
                                         VocApMethod method = VocApMethod::AllPoints);

// Mean of the APs of classes with ground truth; -1 when there is none.
double voc_mean_ap(const std::vector<VocClassResult>& per_class);

}  // namespace dl
