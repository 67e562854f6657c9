// Matcher (Faster R-CNN, Ren et al. 2015, §3.1.2; torchvision's det_utils.Matcher):
// assigns each anchor or proposal ("prediction") to at most one ground-truth box by
// IoU. For prediction n with best quality q over all ground truths:
//   q >= high_threshold               -> the index of that ground truth (foreground)
//   low_threshold <= q < high_threshold -> kBetweenThresholds (-2, ignored in training)
//   q < low_threshold                 -> kBelowLowThreshold (-1, background)
// Ties between ground truths go to the lower index.
//
// allow_low_quality_matches (the paper's rule (i) for the RPN: "the anchor with the
// highest IoU with a ground-truth box" is positive even below 0.7): for each ground
// truth, every prediction whose quality equals that ground truth's best quality
// (ties included) gets back its own best match from before thresholding. As in
// torchvision, that is the prediction's best ground truth, which is not necessarily
// the ground truth that nominated it.
#pragma once
#include <vector>

#include "detection/boxes.h"

namespace dl {

constexpr int kBelowLowThreshold = -1;
constexpr int kBetweenThresholds = -2;

struct Matcher {
  float high_threshold = 0.7f;
  float low_threshold = 0.3f;
  bool allow_low_quality_matches = false;
};

// quality: row-major [num_gt x num_pred] (e.g. box_iou_matrix(gt, predictions)).
// Returns num_pred entries. With no ground truth every prediction is background
// (torchvision raises instead; an image without objects is normal in detlab's scenes).
// Throws std::invalid_argument when low_threshold > high_threshold and ShapeError
// when quality has the wrong size.
std::vector<int> match_predictions(const std::vector<float>& quality, int num_gt, int num_pred,
                                   const Matcher& matcher);

// The usual case: quality = IoU of ground-truth boxes and anchors/proposals.
std::vector<int> match_boxes(const std::vector<Box>& ground_truth,
                             const std::vector<Box>& predictions, const Matcher& matcher);

// SSD's matching strategy (Liu et al. 2016, §2.2; torchvision's SSDMatcher): "match each
// ground truth box to the default box with the best jaccard overlap", then every default
// box with overlap >= threshold (0.5) to its best ground truth. The first rule is applied
// last, ground truth by ground truth, so it wins; when two ground truths share their best
// default box, the later one keeps it (torchvision's index assignment does the same), and
// a ground truth's best box is the lowest-index one among equals. Entries: the ground-truth
// index, or kBelowLowThreshold (background). quality as for match_predictions.
std::vector<int> match_default_boxes(const std::vector<float>& quality, int num_gt, int num_pred,
                                     float threshold = 0.5f);

}  // namespace dl
