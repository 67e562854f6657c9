#include "detection/matcher.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dl {

std::vector<int> match_predictions(const std::vector<float>& quality, int num_gt, int num_pred,
                                   const Matcher& m) {
  if (m.low_threshold > m.high_threshold)
    throw std::invalid_argument("Matcher: low_threshold must be <= high_threshold");
  check_shape(num_gt >= 0 && num_pred >= 0 &&
                  quality.size() == static_cast<size_t>(num_gt) * static_cast<size_t>(num_pred),
              "match_predictions",
              "quality has " + std::to_string(quality.size()) + " entries, expected " +
                  std::to_string(num_gt) + " x " + std::to_string(num_pred));
  std::vector<int> matches(static_cast<size_t>(num_pred), kBelowLowThreshold);
  if (num_gt == 0) return matches;
  auto q = [&](int g, int n) { return quality[static_cast<size_t>(g) * num_pred + n]; };

  std::vector<int> best_gt(static_cast<size_t>(num_pred), 0);
  for (int n = 0; n < num_pred; ++n) {
    int best = 0;
    for (int g = 1; g < num_gt; ++g)
      if (q(g, n) > q(best, n)) best = g;
    best_gt[n] = best;
    const float v = q(best, n);
    matches[n] = v >= m.high_threshold ? best
                 : v >= m.low_threshold ? kBetweenThresholds
                                        : kBelowLowThreshold;
  }
  if (m.allow_low_quality_matches) {
    for (int g = 0; g < num_gt; ++g) {
      float top = q(g, 0);
      for (int n = 1; n < num_pred; ++n) top = std::max(top, q(g, n));
      for (int n = 0; n < num_pred; ++n)
        if (q(g, n) == top) matches[n] = best_gt[n];
    }
  }
  return matches;
}

std::vector<int> match_boxes(const std::vector<Box>& ground_truth,
                             const std::vector<Box>& predictions, const Matcher& matcher) {
  return match_predictions(box_iou_matrix(ground_truth, predictions),
                           static_cast<int>(ground_truth.size()),
                           static_cast<int>(predictions.size()), matcher);
}

std::vector<int> match_default_boxes(const std::vector<float>& quality, int num_gt, int num_pred,
                                     float threshold) {
  // Rule 2 first: one threshold, so nothing lies between the two.
  std::vector<int> matches =
      match_predictions(quality, num_gt, num_pred, Matcher{threshold, threshold, false});
  // Rule 1: each ground truth's best default box is its match, whatever the overlap.
  for (int g = 0; g < num_gt && num_pred > 0; ++g) {
    const float* row = quality.data() + static_cast<size_t>(g) * num_pred;
    matches[std::max_element(row, row + num_pred) - row] = g;
  }
  return matches;
}

}  // namespace dl
