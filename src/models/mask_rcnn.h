// Mask R-CNN (He, Gkioxari, Dollár, Girshick, ICCV 2017) = Faster R-CNN (lesson 05) + a
// third branch on each RoI that predicts an object mask, "in parallel with the existing
// branch for bounding box recognition" (§1).
//
//   image 3 x H x W
//     -> backbone + neck                                 shared map, stride 4
//        |-> RPN -> proposals                            (Faster R-CNN's, models/rpn.h)
//        |-> RoI pool / RoIAlign 7 x 7 -> fc6, fc7 -> class scores + box deltas
//        '-> RoIAlign 14 x 14 -> mask head (models/mask_head.h) -> K masks 28 x 28
//
// Training (§3 "Training"): the multi-task loss L = L_cls + L_box + L_mask on each
// sampled RoI, plus the RPN's two losses; L_mask only on positive RoIs (IoU >= 0.5),
// on the ground-truth class's mask. At test time (§3.1 "Inference") the box branch runs
// on the proposals first, then the mask branch on the highest-scoring detections only
// (faster, and more accurate, than on every proposal); each detection's class-k mask is
// resized to its box and binarised at 0.5 (detection/paste_masks.h).
//
// A MaskRcnn holds a FasterRcnn (parameters "faster_rcnn.fast_rcnn.*", "faster_rcnn.rpn.*")
// and a MaskHead ("mask_head.*"), so a trained faster_rcnn model file loads into it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/rle.h"
#include "models/faster_rcnn.h"
#include "models/mask_head.h"

namespace dl::models {

struct MaskRcnnConfig {
  FasterRcnnConfig faster_rcnn;  // lesson 05's detector as it is
  MaskHeadConfig mask_head;
  int classes() const { return faster_rcnn.classes(); }
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static MaskRcnnConfig from_json(const std::string& json) {  // throws std::invalid_argument
    return nn::config_from_json<MaskRcnnConfig>(json);
  }
};

struct MaskRcnnTrainingOptions {
  FasterRcnnTrainingOptions faster;
  // Positive RoIs per image that go through the mask branch, drawn at random from the
  // sampled foreground (torchvision: all of them, up to 128; fewer keeps training
  // within minutes on two cores).
  int mask_rois_per_image = 8;
  float mask_weight = 1.0f;  // L_mask's weight (the paper: 1)
};

struct MaskRcnnDetectOptions {
  FasterRcnnDetectOptions faster;
  int max_masks = 100;          // masks for the best detections (the paper: 100)
  float mask_threshold = 0.5f;  // a pasted mask's pixel is the object above this
};

// Faster R-CNN's stages, then the mask branch's.
struct MaskRcnnStageTimes {
  FasterRcnnStageTimes faster;
  double mask_pool = 0, mask_head = 0, paste = 0;
  double total() const { return faster.total() + mask_pool + mask_head + paste; }
};

// A training batch with each image's ground-truth masks [G, H, W] (0/1), mirrored with
// their image.
struct MaskBatch {
  DetectionBatch detection;
  std::vector<Tensor> masks;
};

// make_detection_batch's batch of images idx of ds, plus masks[idx[n]] (one per box).
MaskBatch make_mask_batch(const DetectionDataset& ds, const std::vector<std::vector<Mask>>& masks,
                          const std::vector<int64_t>& idx, bool flip, Rng& rng);

struct MaskRcnnLoss {
  FasterRcnnLoss faster;  // the RPN's and the box head's four losses
  Var mask, total;
  int64_t mask_rois = 0;
};

class MaskRcnn : public Module {
 public:
  MaskRcnn(const MaskRcnnConfig& cfg, Rng& rng);
  Var forward(const Var& x) override { return faster_rcnn->forward(x); }
  std::string name() const override { return "MaskRcnn"; }

  // Faster R-CNN's four losses and L_mask on the same sampled RoIs. rng samples the
  // anchors, the RoIs and the mask branch's positives.
  MaskRcnnLoss losses(const MaskBatch& batch, const MaskRcnnTrainingOptions& o, Rng& rng);

  // Detections (Faster R-CNN's), the first max_masks of them with an image-sized mask.
  std::vector<Detection> detect(const Image& img, const MaskRcnnDetectOptions& o,
                                MaskRcnnStageTimes* times = nullptr);
  // The mask branch on given detections of one image's map [1, C, h, w]: their masks'
  // probabilities pasted into the image, [D, 1, height, width].
  Tensor mask_probabilities_for(const Var& features, const std::vector<Detection>& dets, int width,
                                int height, MaskRcnnStageTimes* times = nullptr);

  MaskRcnnConfig config;
  std::shared_ptr<FasterRcnn> faster_rcnn;
  std::shared_ptr<MaskHead> mask_head;
};

}  // namespace dl::models
