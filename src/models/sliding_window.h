// The sliding-window detector of lesson 03: "detection as classification". A crop
// classifier (crop_classifier.h: background or which class?) is trained on crops of
// the training scenes, then applied to every window of an image pyramid
// (detection/sliding_windows.h); windows whose class score passes a threshold become
// detections, and per-class NMS keeps the best of each cluster.
//
//   training crops   positives jittered around each object, negatives elsewhere
//                    (sample_crops), warped to S x S (make_crop_batch), softmax loss
//                    over background + classes (crop_losses)
//   detect           every window scored (score_windows: one crop at a time, or the
//                    whole level at once, OverFeat), then postprocess_detections
#pragma once
#include <cstdint>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/detection.h"
#include "detection/postprocess.h"
#include "detection/sliding_windows.h"
#include "models/crop_classifier.h"

namespace dl::models {

// How an image is scanned: the windows (their crop_size is the classifier's input size,
// set by detect), how they are scored, and the post-processing of their scores
// (threshold, per-class NMS at 0.3 IoU, the best 100).
struct WindowScan {
  SlidingWindowConfig windows;
  ScanMode mode = ScanMode::Conv;
  int crop_batch = 64;  // crops per network call in ScanMode::Crops
  PostprocessOptions post;
};

// ---- training crops: positives at the ground truth with jitter, negatives elsewhere ----
// As in R-CNN's fine-tuning (Girshick et al. 2014, sec. 2.3): a window with IoU >= 0.5
// with an object is that object's class, one with IoU < 0.3 with every object is
// background; windows in between are not used.
struct CropSample {
  int64_t item = 0;
  Box window;
  int label = 0;  // 0 background, k + 1 for class k
  bool flip = false;
};

struct SamplingOptions {
  int positives_per_object = 3;
  int negatives_per_image = 10;
  float positive_iou = 0.5f, negative_iou = 0.3f;
};

// Max IoU of `w` with the item's objects; `which` gets the object's index (-1: none).
float best_iou(const DetectionItem& item, const Box& w, int& which);

// A window of the given side (area^0.5) and aspect centred at (cx, cy), moved inside the
// image; false when it does not fit.
bool place_window(float cx, float cy, float side, float aspect, int W, int H, Box& out);

// One image's crops, shaped like the windows of `windows` (its aspects; the negatives'
// sides between its smallest and largest scale); `index` is the item's index.
std::vector<CropSample> sample_crops(const DetectionItem& item, int64_t index,
                                     const SlidingWindowConfig& windows,
                                     const SamplingOptions& o, Rng rng);

// Every image's samples, each image from its own Rng fork (independent of threads).
std::vector<CropSample> sample_dataset(const DetectionDataset& ds,
                                       const SlidingWindowConfig& windows,
                                       const SamplingOptions& o, const Rng& rng);

struct CropBatch {
  Tensor images;  // [B, 3, S, S], backbone_input's normalisation
  Tensor labels;  // [B]: 0 background, k + 1 for class k
};

// Samples order[start, start + size) (indices modulo the list) warped to S x S.
CropBatch make_crop_batch(const DetectionDataset& ds, const std::vector<CropSample>& samples,
                          const std::vector<int64_t>& order, int64_t start, int64_t size, int S);

// The training crops epoch by epoch: each epoch's crops sampled afresh
// (Rng(seed).fork(1000 + epoch)) and shuffled (Rng(seed).fork(100 + epoch)), so that a
// resumed run sees the same crops. Every epoch takes as many steps as epoch 0 has crops.
class CropEpochs {
 public:
  CropEpochs(const DetectionDataset& ds, const SlidingWindowConfig& windows,
             const SamplingOptions& o, uint64_t seed);
  int64_t per_epoch() const { return per_epoch_; }  // epoch 0's crops
  // Step `step` of epoch `epoch`: its `size` crops in the epoch's order, warped to S x S.
  CropBatch batch(int epoch, int64_t step, int64_t size, int S);

 private:
  const DetectionDataset& ds_;
  SlidingWindowConfig windows_;
  SamplingOptions options_;
  uint64_t seed_;
  int64_t per_epoch_ = 0;
  int epoch_ = -1;  // the epoch samples_ and order_ belong to
  std::vector<CropSample> samples_;
  std::vector<int64_t> order_;
};

// The classifier's loss on a batch of crops: softmax cross-entropy over background +
// classes, and how many crops it classified right.
struct CropLosses {
  Var classification;
  int64_t correct = 0;
};
CropLosses crop_losses(CropClassifier& net, const CropBatch& b);

// Crop accuracy (all crops, and objects only) of a fixed sample of test crops.
struct CropAccuracy {
  double all = 0, objects = 0, background = 0;
  int64_t n = 0;
};
CropAccuracy crop_accuracy(CropClassifier& net, const DetectionDataset& ds,
                           const std::vector<CropSample>& samples);

// ---- detection: scores -> thresholded, per-class NMS'd boxes --------------------------
struct WindowDetections {
  std::vector<Detection> dets;
  std::vector<PyramidLevel> levels;  // the pyramid scanned
  WindowScores scores;               // every window's class probabilities
  double seconds = 0;                // scoring + NMS
};

// Throws std::invalid_argument when the windows do not fit the image or the network.
WindowDetections detect(CropClassifier& net, const Image& img, const WindowScan& scan);

}  // namespace dl::models
