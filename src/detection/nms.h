// Non-maximum suppression: a detector fires many overlapping boxes on one object;
// NMS keeps the best-scoring one and drops the others that overlap it too much.
//
// Greedy NMS (as in DPM, Felzenszwalb et al. 2010, and every R-CNN): visit boxes
// by decreasing score; keep a box unless a kept box overlaps it with IoU > threshold.
// Equal scores are visited in increasing index order, so the result is fully
// determined. torchvision.ops.nms (0.14, CPU) does the same: it sorts with a stable
// sort (checked in tools/golden/make_torchvision_golden.py).
//
// The threshold is a double and the float IoU is compared with it in double, as in
// torchvision's kernel: with integer corners IoUs like exactly 1/5 occur, and
// float(1/5) > 0.2 (double) suppresses while float(1/5) > 0.2f would not.
//
// Degenerate (zero-area) boxes have IoU 0 with everything here, so they never
// suppress or get suppressed for thresholds >= 0. (torchvision gets 0/0 = NaN for two
// zero-area boxes, and NaN > t is false: the same outcome.)
#pragma once
#include <vector>

#include "detection/boxes.h"

namespace dl {

// Kept indices, by decreasing score (ties: lower index first). Throws ShapeError
// when boxes and scores differ in length. Empty input gives an empty result.
// max_keep >= 0 stops once that many are kept: the same first boxes, since whether a box
// is kept depends only on the boxes scoring above it (the RPN's proposal layer keeps its
// top N of ~1000 and need not suppress the rest).
std::vector<int> nms(const std::vector<Box>& boxes, const std::vector<float>& scores,
                     double iou_threshold, int max_keep = -1);
// The plain version the tests use as the oracle: box_iou against every kept box.
// nms() is the same algorithm with areas precomputed and suppression marked forward,
// so each pair is looked at most once.
std::vector<int> nms_reference(const std::vector<Box>& boxes, const std::vector<float>& scores,
                               double iou_threshold);

// Per-class NMS (torchvision.ops.batched_nms): boxes of different classes never
// suppress each other. Result sorted by decreasing score over all classes, ties by
// lower index. (torchvision's own tie order across classes is only this for
// N <= 1000 boxes on CPU; above, it re-sorts with an unstable sort.)
std::vector<int> batched_nms(const std::vector<Box>& boxes, const std::vector<float>& scores,
                             const std::vector<int>& classes, double iou_threshold);

// Soft-NMS (Bodla et al. 2017, "Improving Object Detection With One Line of Code"):
// instead of deleting a box that overlaps the selected box M, decay its score,
//   linear:   s *= 1 - IoU(M, b)   when IoU >= iou_threshold (eq. 2)
//   Gaussian: s *= exp(-IoU^2 / sigma)   for every remaining b (eq. 3)
// then select the next highest score. A box whose (decayed) score falls below
// score_threshold is dropped at once and never selected (as in the authors' code).
enum class SoftNmsMethod { Linear, Gaussian };

struct SoftNmsOptions {
  SoftNmsMethod method = SoftNmsMethod::Gaussian;
  float iou_threshold = 0.3f;      // N_t, linear only
  float sigma = 0.5f;              // Gaussian only
  float score_threshold = 0.001f;
};

struct SoftNmsResult {
  std::vector<int> indices;        // in selection order (decreasing decayed score)
  std::vector<float> scores;       // the decayed score of each selected box
};

SoftNmsResult soft_nms(const std::vector<Box>& boxes, const std::vector<float>& scores,
                       const SoftNmsOptions& options = {});

}  // namespace dl
