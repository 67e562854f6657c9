// Fast R-CNN (Girshick, ICCV 2015): the convolutional layers run once per image; each
// region proposal (RoI) is cut out of the shared feature map by RoI max pooling
// (§2.1) into a fixed grid; fully connected layers then feed two sibling outputs, a
// softmax over K + 1 classes and class-specific box deltas (§2), trained together by
// one multitask loss (§2.3).
//
//   image 3 x H x W
//     -> backbone   lesson 00's conv-BN-ReLU-pool x 2 (c1, c2)      stride 4
//     -> neck       conv3x3(c3)-BN-ReLU (no pool)                   stride 4
//     -> RoI pool   pool x pool grid per RoI, spatial scale 1/4
//     -> fc6, fc7   linear(hidden) - ReLU - dropout, twice
//     -> cls_score  linear(K + 1)         softmax over background + K classes
//     -> bbox_pred  linear(4 K)           (tx, ty, tw, th) for each class
//
// Stride 4 rather than VGG16's 16: the scenes are 128 x 128 with objects of 20-60
// pixels, so a stride-16 map (8 x 8 cells) would leave most RoIs 1-4 cells wide.
//
// Box targets (§2.3, eq. 2-3) use the R-CNN parameterisation (box_coder.h) scaled by
// torchvision's box-head weights (10, 10, 5, 5); this is the released Fast R-CNN's
// normalisation by target std (0.1, 0.1, 0.2, 0.2) with mean 0, written as a coder.
#pragma once
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/box_coder.h"
#include "detection/boxes.h"
#include "detection/detection.h"
#include "image/image.h"
#include "models/backbone.h"
#include "models/detection_batch.h"  // copy_into_batch
#include "nn/config_fields.h"
#include "tensor/rng.h"

namespace dl::models {

struct FastRcnnConfig {
  int c1 = 16, c2 = 32, c3 = 64;  // backbone (lesson 00) and neck channels
  int pool = 7;                   // RoI pooling grid (pool x pool), as VGG16's 7 x 7
  int hidden = 256;               // fc6 / fc7 width
  int num_classes = 11;           // K + 1, background is class 0
  float dropout = 0.25f;
  int classes() const { return num_classes - 1; }  // object classes
  // The fields above, declared once with their ranges (nn/config_fields.h).
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static FastRcnnConfig from_json(const std::string& json) {  // throws std::invalid_argument
    return nn::config_from_json<FastRcnnConfig>(json);
  }
};

struct FastRcnnOutput {
  Var scores;  // [R, K + 1] logits
  Var deltas;  // [R, 4 K]: columns 4k..4k+3 are object class k's (tx, ty, tw, th)
};

struct FastRcnnDetectOptions {
  float threshold = 0.05f;  // lowest class score kept (eval's; predict draws from 0.5)
  double nms = 0.3;         // per-class NMS IoU
  int max_detections = 100;
};

// Where detect's time goes, added up over the calls that share it.
struct FastRcnnStageTimes {
  double conv = 0, roi_pool = 0, fc = 0, nms = 0;
  double total() const { return conv + roi_pool + fc + nms; }
};

// §3.1's truncated SVD at test time: the ranks kept of fc6 and fc7 (0: fc6 left alone).
struct FastRcnnSvd {
  int fc6 = 0, fc7 = -1;  // ranks; fc7 -1: fc6 / 4 (the paper kept 1024 of fc6, 256 of fc7)
  int fc7_rank() const { return fc7 >= 0 ? fc7 : std::max(1, fc6 / 4); }
};

// One training batch (§2.3): N images (mirrored with probability 1/2), R/N sampled RoIs
// each, with their labels and box targets.
struct FastRcnnBatch {
  Tensor images;       // [N, 3, H, W]
  Tensor rois;         // [R', 5]
  std::vector<int> labels;
  std::vector<BoxDelta> targets;
};

struct FastRcnnLoss {
  Var total, classification, localization;
};

class FastRcnn : public Module {
 public:
  FastRcnn(const FastRcnnConfig& cfg, Rng& rng);
  // [N, 3, H, W] normalised images -> [N, c3, H/4, W/4].
  Var features(const Var& images);
  // RoIs [R, 5] (batch index, x1, y1, x2, y2 in image pixels) -> [R, c3 * pool^2], by
  // RoI max pooling (§2.1) or, with roi_align set, RoIAlign (Mask R-CNN §3: bilinear
  // samples, 2 x 2 per bin, as torchvision's Faster R-CNN pools).
  Var pool_rois(const Var& features, const Tensor& rois);
  // Pooled RoI features -> the two sibling outputs.
  FastRcnnOutput head(const Var& pooled);
  FastRcnnOutput predict(const Var& images, const Tensor& rois) {
    return head(pool_rois(features(images), rois));
  }
  Var forward(const Var& x) override { return features(x); }
  std::string name() const override { return "FastRcnn"; }

  // §2.4 / §3: the conv layers once, RoI pooling of every proposal, the FC head; each
  // proposal's class-k box is its class-k deltas applied to it; then threshold, clip and
  // per-class NMS (detection/postprocess.h). `times`, when given, gets each stage's
  // seconds added.
  std::vector<Detection> detect(const Image& img, const std::vector<Box>& proposals,
                                const FastRcnnDetectOptions& o,
                                FastRcnnStageTimes* times = nullptr);
  // The same after the conv layers: `features` is one image's [1, c3, h, w] map, the
  // image width x height pixels (Faster R-CNN calls this with the RPN's proposals).
  std::vector<Detection> detect_on_features(const Var& features, int width, int height,
                                            const std::vector<Box>& proposals,
                                            const FastRcnnDetectOptions& o,
                                            FastRcnnStageTimes* times = nullptr);

  // The multitask loss of a batch (§2.3): classification and box regression, named.
  FastRcnnLoss losses(const FastRcnnBatch& batch, float lambda);

  // §3.1: replaces fc6 by its rank-t6 and fc7 by its rank-t7 truncated SVD (0 leaves
  // a layer alone). For test time only: the factored layers are not saved.
  void compress_fc(int t6, int t7);
  void compress_fc(const FastRcnnSvd& svd) { compress_fc(svd.fc6, svd.fc7_rank()); }

  FastRcnnConfig config;
  bool roi_align = false;  // not part of lesson 04's model files; Faster R-CNN's config sets it
  std::shared_ptr<Sequential> backbone, neck;
  std::shared_ptr<Linear> fc6, fc7, cls_score, bbox_pred;
  std::shared_ptr<Module> fc6_run, fc7_run;  // what runs: fc6/fc7 or their factorisation
  std::shared_ptr<Dropout> drop6, drop7;
};


// ---- training: RoI labels, hierarchical sampling, the multitask loss (§2.3) ----------
struct RoiSamplingConfig {
  int rois_per_image = 32;       // R / N (the paper: 128 = 64 x 2)
  float fg_fraction = 0.25f;     // foreground share of each image's RoIs
  float fg_iou = 0.5f;           // IoU >= fg_iou with a ground-truth box: that class
  float bg_iou_lo = 0.1f;        // IoU in [bg_iou_lo, fg_iou): background
};

struct RoiSample {
  std::vector<Box> rois;             // sampled RoIs, foreground first
  std::vector<int> labels;           // 0 background, k + 1 for class k
  std::vector<BoxDelta> targets;     // encoded ground truth (zeros for background)
  std::vector<int> matched;          // index of the matched ground-truth box (-1: background)
};

// One image's RoIs: the proposals plus the ground-truth boxes themselves (§2.3 adds
// them during training), labelled by their best-overlapping object, then sampled
// with sample_balanced (at most fg_fraction foreground, the rest background; RoIs
// with IoU < bg_iou_lo are never used).
RoiSample sample_rois(const std::vector<Box>& proposals, const std::vector<Box>& gt_boxes,
                      const std::vector<int>& gt_labels, const RoiSamplingConfig& cfg,
                      const BoxCoder& coder, Rng& rng);

// What a training batch is made of (§2.3's hierarchical sampling).
struct FastRcnnBatchOptions {
  int rois_per_batch = 128;   // R (§2.3: 64 per image); R = 64 gave 66.8 % mAP, 128 68.9 %
  float fg_fraction = 0.25f;  // foreground share of the RoIs
  float bg_iou_lo = 0.1f;     // lowest IoU of a background RoI
  bool flip = true;           // mirror each image with probability 1/2
};

// The batch of images `idx` of `ds` (their proposals in `proposals`): each image
// mirrored with probability 1/2 (image hflip and hflip_box), padded to the largest
// (zero = the mean colour), its RoIs sampled by sample_rois (R / N per image).
FastRcnnBatch make_fast_rcnn_batch(const DetectionDataset& ds,
                                   const std::vector<std::vector<Box>>& proposals,
                                   const std::vector<int64_t>& idx, const FastRcnnBatchOptions& o,
                                   Rng rng);

// L = mean_i CE(p_i, u_i) + lambda * (1/R) sum_{i: u_i >= 1} smoothL1(t^{u_i}_i - v_i)
// (§2.3, eq. 1 and 3, beta = 1; torchvision's fastrcnn_loss: beta = 1/9): the box term
// only for foreground RoIs and only on
// the deltas of the RoI's true class u_i, normalised by the number of RoIs R (as the
// released code and torchvision do). scores [R, K+1], deltas [R, 4K], labels [R],
// targets [R, 4]. ShapeError when the shapes disagree.
FastRcnnLoss fast_rcnn_loss(const Var& scores, const Var& deltas, const std::vector<int>& labels,
                            const std::vector<BoxDelta>& targets, float lambda = 1.0f,
                            float beta = 1.0f);

}  // namespace dl::models
