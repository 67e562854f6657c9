// The per-class results table every program's `eval` prints, in the spirit of
// darknet's `detector map` output: one row per class with AP, true and false
// positives and the number of ground-truth objects, then summary lines (mAP, the
// COCO numbers, timings...).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "eval/coco_eval.h"
#include "eval/voc_ap.h"

namespace dl {

struct DetectionTableRow {
  std::string name;
  double ap = -1;  // in [0, 1]; < 0 prints "-" (no ground truth)
  int tp = 0, fp = 0, num_gt = 0;
};

struct DetectionTable {
  std::string title;         // e.g. "faster_rcnn on scenes/test (VOC AP, IoU 0.50)"
  std::string ap_label = "AP";
  std::vector<DetectionTableRow> rows;
  // Printed after the table as "label = value" lines, values already formatted.
  std::vector<std::pair<std::string, std::string>> summary;
};

// Fixed-width text; column widths follow the longest class name. Ends with '\n'.
std::string format_detection_table(const DetectionTable& table);

// Tables from the two evaluations. class_names[k] names the k-th class (per_class
// order for VOC, sorted category id order for COCO; a missing name prints the id).
// The VOC table's summary is the mAP; the COCO table lists AP@[.5:.95] and AP50 per
// class, TP/FP at IoU .5, and the 12 COCO numbers as summary lines.
DetectionTable voc_detection_table(const std::vector<VocClassResult>& per_class,
                                   const std::vector<std::string>& class_names,
                                   float iou_threshold = 0.5f);
DetectionTable coco_detection_table(const CocoEvalResult& result,
                                    const std::vector<std::string>& class_names);

}  // namespace dl
