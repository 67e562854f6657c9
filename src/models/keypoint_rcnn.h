// Keypoint R-CNN: Mask R-CNN "also does pose" (He, Gkioxari, Dollár, Girshick, ICCV 2017,
// §5) -- Faster R-CNN (lesson 05) with one foreground class, "person", plus a keypoint
// branch on each RoI that predicts K one-hot masks, one per joint.
//
//   image 3 x H x W
//     -> backbone + neck                                 shared map, stride 4
//        |-> RPN -> proposals                            (Faster R-CNN's, models/rpn.h)
//        |-> RoI pool 7 x 7 -> fc6, fc7 -> person / background + box deltas
//        '-> RoIAlign 14 x 14 -> keypoint head (models/keypoint_head.h) -> K heatmaps 56 x 56
//
// Training: L = L_cls + L_box + L_kp on the sampled RoIs, plus the RPN's two losses;
// L_kp on positive RoIs only (IoU >= 0.5 with a person), against that person's joints
// (§5 "Implementation Details", torchvision's keypointrcnn_loss). At test time the
// keypoint branch runs on the final detections (§3.1's order, as the mask branch), and
// each heatmap's argmax in its box is the joint.
//
// A KeypointRcnn holds a FasterRcnn ("faster_rcnn.fast_rcnn.*", "faster_rcnn.rpn.*") and
// a KeypointHead ("keypoint_head.*"); the shared layers of a trained faster_rcnn model
// load into it, its class head is new (two classes instead of the scenes' eleven).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/keypoint_dataset.h"
#include "models/faster_rcnn.h"
#include "models/keypoint_head.h"

namespace dl::models {

struct KeypointRcnnConfig {
  FasterRcnnConfig faster_rcnn;  // lesson 05's detector; num_classes 2 (background, person)
  KeypointHeadConfig keypoint_head;
  KeypointRcnnConfig() { faster_rcnn.fast_rcnn.num_classes = 2; }
  int classes() const { return faster_rcnn.classes(); }
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static KeypointRcnnConfig from_json(const std::string& json) {  // throws std::invalid_argument
    return nn::config_from_json<KeypointRcnnConfig>(json);
  }
};

struct KeypointRcnnTrainingOptions {
  FasterRcnnTrainingOptions faster;
  // Positive RoIs per image that go through the keypoint branch, drawn at random from
  // the sampled foreground (torchvision: all of them; fewer keeps training in minutes).
  int keypoint_rois_per_image = 8;
  float keypoint_weight = 1.0f;  // L_kp's weight (torchvision: 1)
};

struct KeypointRcnnDetectOptions {
  FasterRcnnDetectOptions faster;
  int max_poses = 100;  // keypoints for the best N detections
};

// Faster R-CNN's stages, then the keypoint branch's.
struct KeypointRcnnStageTimes {
  FasterRcnnStageTimes faster;
  double keypoint_pool = 0, keypoint_head = 0, decode = 0;
  double total() const { return faster.total() + keypoint_pool + keypoint_head + decode; }
};

// A training batch of pose figures: the images and person boxes (label 0 = person) as
// make_detection_batch builds them, with each person's joints (x, y, v per joint). A
// mirrored image's joints are mirrored (x -> W - x, as torchvision's flip) and their
// left and right exchanged (`mirror`: joint j becomes joint mirror[j]).
struct KeypointBatch {
  DetectionBatch detection;
  std::vector<std::vector<std::vector<float>>> keypoints;  // [image][person] -> 3K values
};
KeypointBatch make_keypoint_batch(const KeypointDataset& ds, const std::vector<int64_t>& idx,
                                  bool flip, const std::vector<int>& mirror, Rng& rng);

struct KeypointRcnnLoss {
  FasterRcnnLoss faster;  // the RPN's and the box head's four losses
  Var keypoint, total;
  int64_t keypoint_rois = 0;
};

class KeypointRcnn : public Module {
 public:
  KeypointRcnn(const KeypointRcnnConfig& cfg, Rng& rng);
  Var forward(const Var& x) override { return faster_rcnn->forward(x); }
  std::string name() const override { return "KeypointRcnn"; }

  // Faster R-CNN's four losses and L_kp on the same sampled RoIs. rng samples the
  // anchors, the RoIs and the keypoint branch's positives.
  KeypointRcnnLoss losses(const KeypointBatch& batch, const KeypointRcnnTrainingOptions& o, Rng& rng);

  // Person detections, best first; the first max_poses of them with keypoints (x, y and
  // visibility 1 per joint, torchvision's layout).
  std::vector<Detection> detect(const Image& img, const KeypointRcnnDetectOptions& o,
                                KeypointRcnnStageTimes* times = nullptr);

  KeypointRcnnConfig config;
  std::shared_ptr<FasterRcnn> faster_rcnn;
  std::shared_ptr<KeypointHead> keypoint_head;
};

}  // namespace dl::models
