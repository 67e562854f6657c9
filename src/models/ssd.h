// SSD: Single Shot MultiBox Detector (Liu et al., ECCV 2016). No proposals: one network
// maps the image to class scores and box offsets for a fixed set of default boxes
// (detection/default_boxes.h) on several feature maps of decreasing resolution, so each
// map handles one range of object sizes (§2.1 "Multi-scale feature maps for detection").
//
//   image 3 x 128 x 128
//     -> backbone (lesson 00) conv-BN-ReLU-pool x 2             32 x 32, stride 4
//     -> conv3x3(channels)-BN-ReLU                              map 1: 32 x 32
//     -> extra layer: conv3x3/2 - BN - ReLU - conv3x3 - BN - ReLU  map 2: 16 x 16
//     -> extra layer (the same)                                 map 3:  8 x 8
//     -> extra layer (the same)                                 map 4:  4 x 4
//   on every map k, two 3 x 3 conv predictors (§2.1 "Convolutional predictors"):
//     A (K + 1) class scores and 4 A offsets per cell, A = 2 + 2 x ratios default boxes
//
// Why these maps, scales and ratios for the scenes (objects 16-64 pixels, the middle 90 %
// of their sqrt(area) 14-52 pixels, width / height 0.4-2.5): s_min = 0.12 and s_max =
// 0.48 make the square boxes 15, 31, 46 and 61 pixels on maps of stride 4, 8, 16 and 32,
// the extra s' boxes 22, 38, 53 and 68 (SSD300's s_min = 0.2, s_max = 0.9 is for objects
// a third of a 300-pixel image). With ratios {2, 1/2}, 4 boxes a cell, 5,440 in all, 98.5 %
// of the training objects have a default box at IoU >= 0.5 and ~10 on average; the
// paper's {2, 1/2, 3, 1/3} (6 a cell, 8,160) raise that to 99.1 % and ~12 but cost half
// as much again in the predictors and gave no better mAP here (measured: lesson 06).
// Each map's predictor sees (theoretical receptive field) 26, 58, 122 and 250 pixels, at
// least twice its boxes' side.
// The paper's maps come from VGG16's conv4_3 and fc7 and its extra layers are 1x1-then-
// 3x3/2 convolutions without BN; detlab's layers have BN, as the shared backbone does,
// and so need no L2 normalisation of the first map (§3.1: conv4_3's scale differs).
//
// Training (§2.2): match_default_boxes (detection/matcher.h) labels every default box,
// positives regress the (10, 10, 5, 5) coder's offsets (box_coder.h, as torchvision's
// SSD), the negatives are mined hardest first to 3:1 (detection/hard_negative_mining.h);
//   L = (1/N) (L_conf + alpha L_loc),   N = matched default boxes (L = 0 when N = 0)
// with L_conf the softmax cross-entropy over the positives and the kept negatives and
// L_loc the smooth L1 (beta = 1) of the positives' offsets -- the paper's eq. 1-3,
// computed per batch as torchvision's SSD.compute_loss does.
// Inference (§3): softmax per default box, per-class threshold 0.01, the best 400 of each
// class, NMS 0.45, the best detections kept (detection/postprocess.h).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/anchors.h"
#include "detection/box_coder.h"
#include "detection/detection.h"
#include "image/image.h"
#include "models/backbone.h"
#include "nn/config_fields.h"
#include "tensor/rng.h"

namespace dl::models {

struct SsdConfig {
  int c1 = 16, c2 = 32;  // the shared backbone (lesson 00)
  int channels = 64;     // width of every feature map
  int maps = 4;          // feature maps: the stride-4 map, then each extra layer halves it
  float s_min = 0.12f, s_max = 0.48f;        // default-box scales (§2.2), of the image side
  std::vector<float> aspect_ratios = {2};  // each with its reciprocal (default_boxes.h)
  int num_classes = 11;  // K + 1, background is class 0
  int classes() const { return num_classes - 1; }
  int boxes_per_cell() const { return 2 + 2 * static_cast<int>(aspect_ratios.size()); }
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static SsdConfig from_json(const std::string& json);  // throws std::invalid_argument
};

// What the training step matches and mines (shapes no weights).
struct SsdTrainingOptions {
  float match_iou = 0.5f;      // §2.2: default boxes with jaccard overlap > 0.5 are positives
  float neg_pos_ratio = 3.0f;  // §2.2: negatives : positives at most 3 : 1
  float alpha = 1.0f;          // weight of the localisation loss (eq. 1; the paper: 1)
};

struct SsdDetectOptions {
  float threshold = 0.01f;  // lowest class score kept (§3: 0.01; predict draws from 0.5)
  double nms = 0.45;        // per-class NMS IoU (§3)
  int top_k = 400;          // per class, the best boxes above the threshold that enter NMS
                            // (torchvision's topk_candidates: an untrained network scores
                            // every default box above 0.01, and NMS is quadratic)
  int max_detections = 100; // the paper keeps 200; COCO AP counts 100
};

// Where detect's time goes.
struct SsdStageTimes {
  double features = 0;  // backbone + extra layers
  double heads = 0;     // the 3 x 3 predictors and the softmax
  double postprocess = 0;  // decode, threshold, NMS
  double total() const { return features + heads + postprocess; }
};

// Every map's predictions, default boxes in the order of default_boxes.h.
struct SsdOutput {
  Var scores;  // [N, D, K + 1] logits
  Var deltas;  // [N, D, 4]
  std::vector<GridSize> maps;
};

// The named losses of a batch.
struct SsdLoss {
  Var total, classification, localization;
  int64_t positives = 0, negatives = 0;  // matched and mined default boxes in the batch
};

class Ssd : public Module {
 public:
  Ssd(const SsdConfig& cfg, Rng& rng);  // std::invalid_argument for s_min > s_max
  // [N, 3, H, W] normalised images -> the m feature maps, finest first.
  std::vector<Var> feature_maps(const Var& images);
  // The predictors on those maps.
  SsdOutput head(const std::vector<Var>& maps);
  SsdOutput predict(const Var& images) { return head(feature_maps(images)); }
  Var forward(const Var& x) override { return predict(x).scores; }
  std::string name() const override { return "Ssd"; }

  // The feature maps' sizes for an image_h x image_w image, without running the network.
  std::vector<GridSize> map_sizes(int image_h, int image_w) const;
  // The default boxes of an image_h x image_w image whose maps are `maps`.
  std::vector<Box> default_boxes(const std::vector<GridSize>& maps, int image_h, int image_w) const;

  // The loss of a padded batch of images with their boxes and labels (0..K-1).
  SsdLoss losses(const Tensor& images, const std::vector<std::vector<Box>>& boxes,
                 const std::vector<std::vector<int>>& labels, const SsdTrainingOptions& o);

  std::vector<Detection> detect(const Image& img, const SsdDetectOptions& o,
                                SsdStageTimes* times = nullptr);

  SsdConfig config;
  std::shared_ptr<Sequential> backbone, neck;
  std::vector<std::shared_ptr<Sequential>> extras;     // "extras.0", ...
  std::vector<std::shared_ptr<Conv2d>> cls, box;       // "cls.0", "box.0", ... per map
};

// One image's training targets (§2.2 "Matching strategy"): per default box its class
// (0 background, k + 1 for object class k) and, for the positives, the coder's offsets
// of its matched ground truth.
struct SsdTargets {
  std::vector<int> labels;
  std::vector<int> positives;          // default-box indices, ascending
  std::vector<BoxDelta> offsets;       // per positive
};
SsdTargets ssd_targets(const std::vector<Box>& default_boxes, const std::vector<Box>& gt_boxes,
                       const std::vector<int>& gt_labels, float match_iou);

// L = (1/N) (sum_{positives + mined negatives} CE(scores, label)
//            + alpha sum_{positives} smoothL1(deltas - offsets)),  N = max(1, positives),
// mining per image with hard_negatives on each default box's CE. scores [N, D, K + 1],
// deltas [N, D, 4]; one SsdTargets per image. ShapeError when they disagree.
// Per class (column c >= 1 of probs [D, K + 1]), every score below the class's top_k-th
// best (ties: the lower row first) set to -1, so that postprocess_detections' threshold
// drops it.
void keep_top_k_per_class(Tensor& probs, int top_k);

SsdLoss ssd_loss(const Var& scores, const Var& deltas, const std::vector<SsdTargets>& targets,
                 float neg_pos_ratio, float alpha);

}  // namespace dl::models
