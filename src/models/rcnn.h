// R-CNN (Girshick et al., "Rich feature hierarchies for accurate object detection and
// semantic segmentation", CVPR 2014): detection as "recognition using regions".
//
//   proposal box (x1, y1, x2, y2) of an image
//     -> warp      dilated so that `context` pixels surround it, warped anisotropically
//                  to S x S (appendix A; outside the image: its mean colour)
//     -> CNN       lesson 03's crop classifier (models/crop_classifier.h), pretrained on
//                  lesson 00's items and fine-tuned on warped proposals (sec. 2.3;
//                  windows and batches: models/region_finetuning.h)
//     -> features  its penultimate layer ("fc" after its ReLU; fc7 in the paper),
//                  times feature_scale (mean L2 norm 20)
//     -> SVMs, box regressors, per-class NMS    models/region_svm_head.h
//
// Every region goes through the whole CNN on its own -- the cost the lecture's timing
// chart shows and that SPP-net (models/spp_net.h) and Fast R-CNN remove.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/detection.h"
#include "image/image.h"
#include "models/crop_classifier.h"
#include "models/region_finetuning.h"
#include "models/region_svm_head.h"
#include "nn/config_fields.h"

namespace dl::models {

struct RcnnConfig {
  CropClassifierConfig cnn;
  int context = 2;            // context pixels around the box in the warped crop
  float feature_scale = 1;    // features are multiplied by this (mean L2 norm 20, as R-CNN)
  // The fields above, declared once with their ranges (nn/config_fields.h).
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static RcnnConfig from_json(const std::string& text);  // throws std::invalid_argument
  int classes() const { return cnn.num_classes - 1; }  // object classes (no background)
  int feature_dim() const { return cnn.hidden; }
};

// The fine-tuned CNN, the SVMs and the box regressors, in one checkpoint.
class RcnnModel : public Module {
 public:
  RcnnModel(const RcnnConfig& c, Rng& rng);
  Var forward(const Var& x) override { return cnn->forward(x); }
  std::string name() const override { return "Rcnn"; }

  // The penultimate layer (the "fc" conv after its ReLU) of crops [N, 3, S, S]:
  // [N, hidden], multiplied by feature_scale. Eval mode, no gradients.
  Tensor features(const Tensor& crops);

  RcnnConfig config;
  std::shared_ptr<CropClassifier> cnn;
  RegionSvmHead head;
};

// Seconds spent in each stage of detect, added to.
struct RcnnTimes {
  double warping = 0, cnn = 0;
  RegionStageTimes head;
};

// Features of `boxes` of one image, [n, D], in batches of `batch` crops.
Tensor region_features(RcnnModel& m, const Image& img, const std::vector<Box>& boxes,
                       RcnnTimes* t = nullptr, int batch = 256);

// A fine-tuning batch of `fg` foreground and `bg` background windows drawn with rng,
// warped and randomly mirrored. The draws happen before the parallel warp:
// thread-independent.
WindowBatch warped_window_batch(const RcnnConfig& cfg, const DetectionDataset& ds,
                                const Labelled& w, int fg, int bg, Rng rng);

// One image's detections from its proposals: warp, CNN features, then the SVM head.
std::vector<Detection> detect(RcnnModel& m, const Image& img, const std::vector<Box>& proposals,
                              const RegionDetectOptions& o, RcnnTimes* t = nullptr);

}  // namespace dl::models
