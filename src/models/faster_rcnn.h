// Faster R-CNN (Ren, He, Girshick, Sun, NeurIPS 2015) = a Region Proposal Network
// (models/rpn.h) + lesson 04's Fast R-CNN detector (models/fast_rcnn.h), sharing one
// convolutional feature map, so the proposals cost almost nothing (§3: "nearly
// cost-free region proposals") and Selective Search disappears.
//
//   image 3 x H x W
//     -> backbone + neck (Fast R-CNN's)                  shared map, stride 4
//        |-> RPN: conv3x3 -> objectness (k) + deltas (4k) per position
//        |     -> proposal layer: decode, clip, top-N, NMS 0.7, top-N  (no gradient)
//        '-> RoI pool (or RoIAlign) of the proposals on the shared map
//              -> fc6, fc7 -> softmax over K + 1 classes, class-specific deltas
//
// Trained end to end with four losses, "approximate joint training" (§3.2): the RPN's
// objectness and box losses plus Fast R-CNN's classification and box losses, summed;
// the proposals are treated as fixed boxes (no gradient through their coordinates).
// RoI sampling follows torchvision's RoIHeads: the ground-truth boxes join the proposals,
// IoU >= 0.5 is foreground, everything below background (Fast R-CNN's 0.1 lower bound
// would leave few backgrounds among RPN proposals, which hug objects).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/detection.h"
#include "models/detection_batch.h"
#include "models/fast_rcnn.h"
#include "models/rpn.h"

namespace dl::models {

struct FasterRcnnConfig {
  FastRcnnConfig fast_rcnn;  // backbone, neck, RoI head (lesson 04)
  RpnConfig rpn;
  bool roi_align = false;    // RoIAlign instead of RoI max pooling
  int classes() const { return fast_rcnn.classes(); }
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static FasterRcnnConfig from_json(const std::string& json) {  // throws std::invalid_argument
    return nn::config_from_json<FasterRcnnConfig>(json);
  }
};

// What the training step samples and proposes (shapes no weights).
struct FasterRcnnTrainingOptions {
  RpnTrainingOptions rpn;
  // The paper trains with 12000 / 2000; the scenes have 9216 anchors and ~3 objects.
  ProposalLayerOptions proposals{2000, 300, 0.7, 1e-3f};
  int rois_per_image = 64;     // the paper: 128 (2 images x 64 = Fast R-CNN's R = 128)
  float fg_fraction = 0.25f;
  float bg_iou_lo = 0.0f;      // lowest IoU of a background RoI (torchvision 0; Fast R-CNN 0.1)
  float lambda = 1.0f;         // weight of the head's box loss
};

struct FasterRcnnDetectOptions {
  ProposalLayerOptions proposals{1000, 100, 0.7, 1e-3f};  // the paper at test time: 6000 / 300
  FastRcnnDetectOptions head;                             // threshold 0.05, NMS 0.3, top 100
};

// Where detect's time goes: the RPN's two stages, then Fast R-CNN's four
// (conv = backbone + neck, RoI pool, FC head, NMS).
struct FasterRcnnStageTimes {
  FastRcnnStageTimes fast;
  double rpn = 0, proposals = 0;
  double total() const { return fast.total() + rpn + proposals; }
  // In the order the image goes through them: backbone, RPN head, proposal layer, RoI
  // pool, FC head, NMS (Mask R-CNN's branches come after).
  std::vector<double> in_order() const { return {fast.conv, rpn, proposals, fast.roi_pool, fast.fc, fast.nms}; }
};

// The four losses of §3.2, named as the progress bar and the curves show them.
struct FasterRcnnLoss {
  Var total, rpn_objectness, rpn_box, classification, localization;
  int64_t rois = 0, foreground = 0;  // sampled RoIs of the head, and how many are objects
  // What a head added on the same map needs (Mask R-CNN's mask branch): the shared map,
  // the sampled RoIs [rois, 5] (batch index, x1, y1, x2, y2), their labels (0
  // background, k + 1 class k) and matched ground-truth box in their image (-1: none).
  Var features;
  Tensor roi_boxes;
  std::vector<int> labels, matched;
};

// The training RoIs of a branch added on the shared map (Mask R-CNN's masks, its
// keypoints): for each of the batch's `images`, the head's sampled RoIs that are objects
// (label > 0), at most `per_image` of them drawn at random -- indices into f.roi_boxes.
std::vector<std::vector<int>> sample_object_rois(const FasterRcnnLoss& f, int64_t images,
                                                 int per_image, Rng& rng);

// The first `n` detections' boxes as RoIs [n, 5] (batch index 0, x1, y1, x2, y2).
Tensor detection_rois(const std::vector<Detection>& dets, int64_t n);

// One image's RPN stage, for pictures and for detect.
struct RpnView {
  Var features;                // [1, c3, h, w]
  RpnOutput out;               // objectness [1, k, h, w], deltas [1, 4k, h, w]
  std::vector<Box> anchors;    // h * w * k
};

class FasterRcnn : public Module {
 public:
  FasterRcnn(const FasterRcnnConfig& cfg, Rng& rng);
  Var forward(const Var& x) override { return fast_rcnn->features(x); }
  std::string name() const override { return "FasterRcnn"; }

  // The four losses of a batch. rng samples the anchors and the RoIs.
  FasterRcnnLoss losses(const DetectionBatch& batch, const FasterRcnnTrainingOptions& o,
                        Rng& rng);

  // The conv layers and the RPN head on one image (no gradient).
  RpnView run_rpn(const Image& img, FasterRcnnStageTimes* times = nullptr);
  // The RPN's proposals for one image (§3.3).
  Proposals proposals(const Image& img, const ProposalLayerOptions& o);
  // Test time: conv once, RPN, proposal layer, then Fast R-CNN's head on the proposals.
  std::vector<Detection> detect(const Image& img, const FasterRcnnDetectOptions& o,
                                FasterRcnnStageTimes* times = nullptr);
  // detect, also keeping the shared feature map: the branches that Mask R-CNN adds
  // (masks, keypoints) run on it for the best detections.
  struct DetectionsOnMap {
    std::vector<Detection> detections;  // best first
    Var features;                       // [1, c3, h, w]
  };
  DetectionsOnMap detect_on_map(const Image& img, const FasterRcnnDetectOptions& o,
                                FasterRcnnStageTimes* times = nullptr);

  FasterRcnnConfig config;
  std::shared_ptr<FastRcnn> fast_rcnn;  // parameters "fast_rcnn.backbone.0.weight", ...
  std::shared_ptr<Rpn> rpn;             // "rpn.conv.weight", ...
};

}  // namespace dl::models
