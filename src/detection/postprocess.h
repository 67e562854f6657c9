// The last step of every detector: per-class scores and boxes -> final detections.
//   score threshold -> clip to the image -> (drop boxes with no area) -> per-class NMS
//   (boxes of different classes never suppress each other) -> the best max_detections.
// R-CNN §2.2 ("greedy non-maximum suppression for each class independently"), Fast R-CNN
// §4.1 and torchvision's RoIHeads.postprocess_detections do the same steps.
#pragma once
#include <vector>

#include "detection/detection.h"
#include "tensor/tensor.h"

namespace dl {

struct PostprocessOptions {
  float score_threshold = 0.05f;  // candidates scoring below are dropped
  double nms_iou = 0.3;           // per-class NMS IoU
  int max_detections = 100;
  bool drop_empty = false;        // drop boxes that clipping leaves without area
};

// scores [N, C]: row i's score for class column c; object class k is column
// first_class + k (first_class 1 when column 0 is the background). boxes [N, 4] (one box
// for every class of a row: sliding windows, proposals) or [N, 4K] (class-specific boxes,
// columns 4k..4k+3 for object class k). Candidates are taken in row-major order, so ties
// are broken the same way everywhere.
std::vector<Detection> postprocess_detections(const Tensor& scores, int first_class,
                                              const Tensor& boxes, int width, int height,
                                              const PostprocessOptions& o);

// Row-wise softmax of logits [N, C], summed in double precision (the probabilities the
// detectors threshold; the autograd softmax is for training).
Tensor softmax_rows(const Tensor& logits);
// One softmax of `classes` logits read with a stride (score maps are [C, h, w]).
void softmax_strided(const float* logits, int64_t step, int classes, float* out);

}  // namespace dl
