#include "detection/nms.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace dl {

namespace {

void check_lengths(size_t boxes, size_t scores, const char* op) {
  check_shape(boxes == scores, op,
              std::to_string(boxes) + " boxes but " + std::to_string(scores) + " scores");
}

// Indices by decreasing score; a stable sort keeps equal scores in index order.
std::vector<int> score_order(const std::vector<float>& scores) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return scores[a] > scores[b]; });
  return order;
}

}  // namespace

std::vector<int> nms_reference(const std::vector<Box>& boxes, const std::vector<float>& scores,
                               double iou_threshold) {
  check_lengths(boxes.size(), scores.size(), "nms_reference");
  std::vector<int> keep;
  for (int i : score_order(scores)) {
    bool suppressed = false;
    for (int k : keep)
      if (static_cast<double>(box_iou(boxes[k], boxes[i])) > iou_threshold) suppressed = true;
    if (!suppressed) keep.push_back(i);
  }
  return keep;
}

// Same decisions as nms_reference: a box is dropped iff some kept, higher-ranked box
// overlaps it too much. Here each kept box marks the lower-ranked ones it suppresses.
std::vector<int> nms(const std::vector<Box>& boxes, const std::vector<float>& scores,
                     double iou_threshold, int max_keep) {
  check_lengths(boxes.size(), scores.size(), "nms");
  const std::vector<int> order = score_order(scores);
  const size_t n = order.size();
  std::vector<Box> b(n);
  for (size_t r = 0; r < n; ++r) b[r] = boxes[order[r]];
  std::vector<char> suppressed(n, 0);
  std::vector<int> keep;
  for (size_t r = 0; r < n; ++r) {
    if (suppressed[r]) continue;
    if (max_keep >= 0 && keep.size() >= static_cast<size_t>(max_keep)) break;
    keep.push_back(order[r]);
    for (size_t s = r + 1; s < n; ++s) {
      if (suppressed[s]) continue;
      // box_iou itself, as in nms_reference and batched_nms: at an IoU equal to the
      // threshold every NMS here decides alike (and as torchvision does).
      if (static_cast<double>(box_iou(b[r], b[s])) > iou_threshold) suppressed[s] = 1;
    }
  }
  return keep;
}

// One pass in global score order, suppressing only within a class: the same set as
// running nms() per class, already merged in score order.
std::vector<int> batched_nms(const std::vector<Box>& boxes, const std::vector<float>& scores,
                             const std::vector<int>& classes, double iou_threshold) {
  check_lengths(boxes.size(), scores.size(), "batched_nms");
  check_shape(classes.size() == boxes.size(), "batched_nms",
              std::to_string(boxes.size()) + " boxes but " + std::to_string(classes.size()) +
                  " class indices");
  std::vector<int> keep;
  for (int i : score_order(scores)) {
    bool suppressed = false;
    for (int k : keep)
      if (classes[k] == classes[i] &&
          static_cast<double>(box_iou(boxes[k], boxes[i])) > iou_threshold) {
        suppressed = true;
        break;
      }
    if (!suppressed) keep.push_back(i);
  }
  return keep;
}

SoftNmsResult soft_nms(const std::vector<Box>& boxes, const std::vector<float>& scores,
                       const SoftNmsOptions& o) {
  check_lengths(boxes.size(), scores.size(), "soft_nms");
  if (o.method == SoftNmsMethod::Gaussian && !(o.sigma > 0))
    throw std::invalid_argument("soft_nms: Gaussian sigma must be positive");
  std::vector<float> s = scores;
  std::vector<int> remaining;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] >= o.score_threshold) remaining.push_back(static_cast<int>(i));
  SoftNmsResult out;
  while (!remaining.empty()) {
    // The highest current score; remaining stays in index order, so the first
    // maximum is the lowest index among ties.
    size_t best = 0;
    for (size_t r = 1; r < remaining.size(); ++r)
      if (s[remaining[r]] > s[remaining[best]]) best = r;
    const int m = remaining[best];
    remaining.erase(remaining.begin() + static_cast<std::ptrdiff_t>(best));
    out.indices.push_back(m);
    out.scores.push_back(s[m]);
    std::vector<int> still;
    for (int i : remaining) {
      const float iou = box_iou(boxes[m], boxes[i]);
      if (o.method == SoftNmsMethod::Linear) {
        if (iou >= o.iou_threshold) s[i] *= 1.0f - iou;
      } else {
        s[i] *= std::exp(-(iou * iou) / o.sigma);
      }
      if (s[i] >= o.score_threshold) still.push_back(i);
    }
    remaining.swap(still);
  }
  return out;
}

}  // namespace dl
