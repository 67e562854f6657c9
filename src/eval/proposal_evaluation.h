// A region-proposal method on a dataset, beside the baseline of dense windows
// (proposals/dense_windows.h): recall of the first N boxes at IoU 0.5 and 0.7 (Hosang et
// al. 2015) and MABO (Uijlings et al. 2013, §5.1), over all boxes and the first 1000.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "data/detection_dataset.h"
#include "eval/proposal_metrics.h"

namespace dl {

struct ProposalEvaluation {
  std::vector<ProposalImage> images;  // the method's proposals, with each image's objects
  int64_t objects = 0;
  double boxes_per_image = 0;
  double seconds = 0;  // the method's, over all images
  ProposalRecallCurve curve;
  MaboResult mabo, mabo_1000;
  double recall50_1000 = 0, recall70_1000 = 0, recall50_all = 0, recall70_all = 0;
  // The baseline: every image's dense windows, shuffled with Rng(seed).fork(image index).
  double windows_per_image = 0;
  ProposalRecallCurve windows_curve;
  double windows_recall50_all = 0, windows_recall70_all = 0;
};

// propose(image) -> ranked boxes, for every image of `ds`; recall curves at `curve_n`.
ProposalEvaluation evaluate_proposals(const DetectionDataset& ds,
                                      const std::function<std::vector<Box>(const Image&)>& propose,
                                      const std::vector<int>& curve_n, uint64_t seed);

}  // namespace dl
