// What R-CNN fine-tunes its CNN on (Girshick et al. 2014, sec. 2.3), and SPP-net its fc
// layers (He et al. 2014, §4.1, unchanged): region proposals labelled by their overlap
// with the ground truth, drawn into mini-batches with a fixed share of foreground
// windows, scored by a softmax over K + 1 classes.
//   - a proposal with IoU >= 0.5 with an object is that object's class, every other
//     proposal background; the ground-truth boxes are positives too
//   - batches of 128 windows with 32 foreground ones (a quarter: fg_fraction)
// Only what a batch is made of differs between the two models: R-CNN warps each window
// into a crop (models/rcnn.h), SPP-net pools it from a conv map (models/spp_net.h).
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/variable.h"
#include "data/detection_dataset.h"
#include "detection/boxes.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

namespace dl::models {

// A fine-tuning window: a proposal (or ground-truth box) of image `item` and its label.
struct Window {
  int64_t item = 0;
  Box box;
  int label = 0;  // 0 background, k + 1 for class k
};
struct Labelled {
  std::vector<Window> fg, bg;
};

// Every image's proposals `props` and ground-truth boxes, labelled (sec. 2.3).
Labelled label_windows(const DetectionDataset& ds, const std::vector<std::vector<Box>>& props);

// The windows of one batch: `fg` foreground then `bg` background ones, each drawn
// uniformly with rng (from the other pool when one is empty).
std::vector<const Window*> draw_windows(const Labelled& w, int fg, int bg, Rng& rng);

// A batch as the network reads it.
struct WindowBatch {
  Tensor inputs;  // [n, ...]: warped crops (R-CNN) or pooled vectors (SPP-net)
  Tensor labels;  // [n] class indices, 0 background
};

// The softmax loss of a batch's logits [n, K + 1] and how many windows it gets right.
struct WindowLoss {
  Var loss;  // mean cross-entropy
  int64_t correct = 0;
};
WindowLoss window_loss(const Var& logits, const Tensor& labels);

// Windows whose highest logit is their label.
int64_t correct_windows(const Tensor& logits, const Tensor& labels);

}  // namespace dl::models
