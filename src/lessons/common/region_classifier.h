// R-CNN's last stages, shared by every program that ends the same way (R-CNN §2.3 and
// appendices B-C; SPP-net §4 reuses them unchanged on its own region features):
//   - features scaled to a mean L2 norm of 20, so C and lambda keep their meaning
//   - one linear SVM per class (positives: ground truth; negatives: IoU < 0.3) with
//     hard-negative mining
//   - class-specific ridge box regression from proposals with IoU >= 0.6
//   - detection: SVM scores, regression, clipping, greedy per-class NMS
// Only the features differ between the programs: R-CNN warps each region through the
// CNN, SPP-net pools each window from one conv map per image.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/bbox_regression.h"
#include "detection/boxes.h"
#include "lessons/common/detection_eval.h"
#include "nn/linear_svm.h"
#include "tensor/tensor.h"

namespace dl::cli {

// The scale that gives the rows of `feats` ([n_i, D] each) a mean L2 norm of 20
// (1 when there are none).
float norm20_scale(const std::vector<Tensor>& feats, int D);

// Trains one SVM per class into svm_weight [K, D] and svm_bias [K]. prop_feats[i] are
// the (scaled) features of train_props[i], gt_feats[i] those of image i's ground-truth
// boxes. Returns the mining log per class; `log` gets one line per class.
nlohmann::json train_region_svms(const DetectionDataset& train,
                                 const std::vector<std::vector<Box>>& train_props,
                                 const std::vector<Tensor>& prop_feats,
                                 const std::vector<Tensor>& gt_feats, int D, double svm_c,
                                 int svm_rounds, uint64_t seed, Tensor& svm_weight,
                                 Tensor& svm_bias,
                                 const std::function<void(const std::string&)>& log);

// Trains the class-specific ridge regressors into bbox_weight [K, D + 1, 4]. Returns
// the number of training pairs per class.
nlohmann::json train_region_regressors(const DetectionDataset& train,
                                       const std::vector<std::vector<Box>>& train_props,
                                       const std::vector<Tensor>& prop_feats, int D,
                                       double lambda, Tensor& bbox_weight);

// A fine-tuning window: a proposal (or ground-truth box) of image `item` and its label.
struct Window {
  int64_t item = 0;
  Box box;
  int label = 0;  // 0 background, k + 1 for class k
};
struct Labelled {
  std::vector<Window> fg, bg;
};

// R-CNN's fine-tuning labels (sec. 2.3; SPP-net sec. 4.1 keeps them): a proposal with
// IoU >= 0.5 with an object is that object's class, every other proposal background;
// the ground-truth boxes are positives too.
Labelled label_windows(const DetectionDataset& ds, const std::vector<std::vector<Box>>& props);

struct RegionDetectOptions {
  float threshold = -3.0f;  // lowest SVM score kept (AP needs the low-ranked ones too)
  double nms = 0.3;         // R-CNN's per-class NMS IoU
  int max_detections = 100;
  bool regress = true;
};

struct RegionStageTimes {
  double svm = 0, regression = 0, nms = 0;
};

// Detections from region features f [n, D] of `proposals` on an image of width x height:
// a detection's score is the SVM margin w.x + b.
std::vector<Detection> detect_regions(const Tensor& f, const std::vector<Box>& proposals,
                                      const Tensor& svm_weight, const Tensor& svm_bias,
                                      const Tensor& bbox_weight, int width, int height,
                                      const RegionDetectOptions& o, RegionStageTimes& t);

}  // namespace dl::cli
