// R-CNN's last stages, shared by every model that ends the same way (R-CNN §2.3 and
// appendices B-C; SPP-net §4 reuses them unchanged on its own region features):
//   - features scaled to a mean L2 norm of 20, so C and lambda keep their meaning
//   - one linear SVM per class (positives: ground truth; negatives: IoU < 0.3) with
//     hard-negative mining
//   - class-specific ridge box regression from proposals with IoU >= 0.6
//   - detection: SVM scores, regression, then detection/postprocess (clipping, greedy
//     per-class NMS, the best max_detections)
// Only the features differ between the models: R-CNN warps each region through the
// CNN (models/rcnn.h), SPP-net pools each window from one conv map per image
// (models/spp_net.h). Training after fine-tuning is, for both:
//   region_training_features -> train_region_svms -> train_region_regressors.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/boxes.h"
#include "detection/detection.h"
#include "tensor/tensor.h"

namespace dl::models {

// The head's weights, which a model registers as its buffers "svm_weight" [K, D],
// "svm_bias" [K] and "bbox_weight" [K, D + 1, 4] (class k's regressor; its last row is
// the bias), for K object classes and D feature dimensions.
struct RegionSvmHead {
  Tensor* svm_weight = nullptr;
  Tensor* svm_bias = nullptr;
  Tensor* bbox_weight = nullptr;
};

// ---- training --------------------------------------------------------------------------

// The scale that gives the rows of `feats` ([n_i, D] each) a mean L2 norm of 20
// (1 when there are none).
float norm20_scale(const std::vector<Tensor>& feats, int D);

// The features the SVMs and regressors learn from: every training proposal's and every
// ground-truth box's, [n_i, D] per image, multiplied by `scale` (norm20_scale of the
// proposals'), which the model must then apply to its own features too.
struct RegionTrainingFeatures {
  std::vector<Tensor> proposals, ground_truth;
  float scale = 1;
};

// features(image index, boxes, proposals?) gives the model's unscaled features [n, D] of
// boxes of one training image; it is asked for the proposals, then the ground truth, of
// every image in turn.
using RegionFeatureFn =
    std::function<Tensor(size_t item, const std::vector<Box>& boxes, bool proposals)>;
RegionTrainingFeatures region_training_features(const DetectionDataset& train,
                                                const std::vector<std::vector<Box>>& train_props,
                                                int D, const RegionFeatureFn& features);

// Trains one SVM per class into head.svm_weight and head.svm_bias. Returns the mining
// log per class; `log` gets one line per class.
nlohmann::json train_region_svms(const DetectionDataset& train,
                                 const std::vector<std::vector<Box>>& train_props,
                                 const RegionTrainingFeatures& feats, double svm_c,
                                 int svm_rounds, uint64_t seed, const RegionSvmHead& head,
                                 const std::function<void(const std::string&)>& log);

// The ridge lambda for D feature dimensions. The paper's 1000 was for 9216-dim pool5
// features of mean norm 20. With the norm fixed, each of our D dims carries 9216 / D
// times the energy, so X'X's diagonal is that much larger; keeping the same relative
// shrinkage needs lambda = 1000 * 9216 / D (72000 for D = 128).
double default_ridge_lambda(int D);

// Trains the class-specific ridge regressors (appendix C) into head.bbox_weight:
// proposals with IoU >= 0.6 with their best ground truth, which gives both the class
// and the target. Returns the number of training pairs per class.
nlohmann::json train_region_regressors(const DetectionDataset& train,
                                       const std::vector<std::vector<Box>>& train_props,
                                       const RegionTrainingFeatures& feats, double lambda,
                                       const RegionSvmHead& head);

// ---- detection -------------------------------------------------------------------------

struct RegionDetectOptions {
  float threshold = -3.0f;  // lowest SVM score kept (AP needs the low-ranked ones too)
  double nms = 0.3;         // R-CNN's per-class NMS IoU
  int max_detections = 100;
  bool regress = true;
};

// Seconds spent in each step of detect_regions, added to.
struct RegionStageTimes {
  double svm = 0, regression = 0, nms = 0;
};

// Detections from region features f [n, D] of `proposals` on an image of width x height:
// a detection's score is the SVM margin w.x + b (> 0: on the class's side).
std::vector<Detection> detect_regions(const Tensor& f, const std::vector<Box>& proposals,
                                      const RegionSvmHead& head, int width, int height,
                                      const RegionDetectOptions& o,
                                      RegionStageTimes* t = nullptr);

}  // namespace dl::models
