// Region Proposal Network (Faster R-CNN, Ren et al., NeurIPS 2015, §3.1): "make the CNN
// do the proposals". A small network slides over the shared conv feature map; at every
// position it looks at a 3 x 3 window and scores k reference boxes (anchors, §3.1.1) of
// several scales and aspect ratios: one objectness logit and four box deltas each.
//
//   features [N, C, h, w]  (the shared backbone + neck, stride 4)
//     -> conv3x3(channels) - ReLU                       the "intermediate layer"
//     -> cls_logits  conv1x1(k)       one objectness logit per anchor
//     -> bbox_pred   conv1x1(4 k)     (tx, ty, tw, th) per anchor, channel 4a + j
//
// Where detlab follows torchvision (rpn.py) rather than the paper, and why:
// * objectness is ONE logit per anchor trained with a sigmoid / binary cross-entropy
//   (the paper: two logits and a softmax -- the same model, with half the outputs);
// * cross-boundary anchors are kept in training (the paper ignores them, §3.3); on
//   128 x 128 scenes with 64-pixel anchors a third of all anchors cross the border, and
//   objects touch it often;
// * the box loss is smooth L1 with beta = 1/9 summed over the positives and divided by
//   the number of sampled anchors (the paper: lambda = 10 over ~2400 locations -- the
//   same 1/240 order of weight);
// * the losses and the proposal layer below match torchvision 0.14 (golden dumps in
//   tests/golden/, tools/golden/make_torchvision_rpn_golden.py).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "detection/anchors.h"
#include "detection/box_coder.h"
#include "detection/boxes.h"
#include "models/backbone.h"
#include "nn/config_fields.h"
#include "tensor/rng.h"

namespace dl::models {

// What shapes the RPN's weights: its width and the anchors (k = sizes x ratios).
struct RpnConfig {
  int channels = 64;  // the 3 x 3 conv's width (ZF: 256, VGG16: 512)
  // Anchor sides in pixels and aspect ratios (height / width). The paper: 128, 256, 512
  // and 0.5, 1, 2 for ~600 x 1000 images; the scenes' objects are 16-64 pixels.
  std::vector<float> anchor_sizes = {16, 32, 64};
  std::vector<float> aspect_ratios = {0.5f, 1.0f, 2.0f};
  int anchors_per_location() const {
    return static_cast<int>(anchor_sizes.size() * aspect_ratios.size());
  }
  nn::ConfigFields fields();
};

// Training targets (§3.1.2) -- options that shape no weights.
struct RpnTrainingOptions {
  float positive_iou = 0.7f;      // IoU >= this with some ground truth: object
  float negative_iou = 0.3f;      // IoU < this with every ground truth: background
  int anchors_per_image = 256;    // sampled anchors per image ...
  float positive_fraction = 0.5f; // ... up to half of them positive (1:1)
};

// The proposal layer (§3.3): decode -> clip -> drop tiny boxes -> top-N by objectness
// -> NMS -> top-N. The paper: 12000 / 2000 in training, 6000 / 300 at test time, NMS 0.7.
struct ProposalLayerOptions {
  int pre_nms_top_n = 1000;
  int post_nms_top_n = 100;
  double nms_iou = 0.7;
  float min_size = 1e-3f;  // torchvision's: drops only boxes clipping made empty
};

struct RpnOutput {
  Var objectness;  // [N, k, h, w] logits
  Var deltas;      // [N, 4 k, h, w]
};

class Rpn : public Module {
 public:
  Rpn(int in_channels, const RpnConfig& cfg, Rng& rng);
  RpnOutput head(const Var& features);
  Var forward(const Var& x) override { return head(x).objectness; }
  std::string name() const override { return "Rpn"; }

  // The anchors of an image_h x image_w image whose feature map is grid.height x
  // grid.width: stride = image size / grid size (integer division, as torchvision), in
  // the order of the head's outputs after permuting to [h, w, k] (anchors.h).
  std::vector<Box> anchors(GridSize grid, int image_h, int image_w) const;

  RpnConfig config;
  std::shared_ptr<Conv2d> conv, cls_logits, bbox_pred;
};

// One image's anchor labels (§3.1.2): 1 object, 0 background, -1 ignored (between the
// thresholds, or not sampled), matched ground-truth index (-1 none) and the (1,1,1,1)
// coder's deltas of each positive anchor towards its ground truth. `sampled` lists the
// anchors that enter the loss: positives first, then negatives, each ascending.
struct RpnTargets {
  std::vector<int> labels;      // per anchor, before sampling: 1 / 0 / -1
  std::vector<int> matched_gt;  // per anchor
  std::vector<int> positives, negatives;  // sampled anchor indices
  std::vector<BoxDelta> positive_targets; // per sampled positive
};

// Labels each anchor with match_boxes (allow_low_quality_matches: the paper's rule (i),
// "the anchor with the highest IoU with a ground-truth box" is positive even below 0.7),
// then samples anchors_per_image of them with sample_balanced (rng).
RpnTargets rpn_targets(const std::vector<Box>& anchors, const std::vector<Box>& gt_boxes,
                       const RpnTrainingOptions& o, Rng& rng);

struct RpnLoss {
  Var objectness, box;  // 0-d each
};

// L = BCE(objectness of the sampled anchors, their labels) (mean)
//   + sum_{sampled positives} smoothL1_{beta=1/9}(deltas - targets) / #sampled
// over a batch: targets[n] belongs to image n of the [N, k, h, w] / [N, 4k, h, w]
// outputs. ShapeError when they disagree. No sampled anchor at all: both losses 0.
RpnLoss rpn_loss(const RpnOutput& out, const std::vector<RpnTargets>& targets);

// An image's proposals, best first, and their objectness probabilities.
struct Proposals {
  std::vector<Box> boxes;
  std::vector<float> scores;
};

// The proposal layer for image n of the head's outputs (values only, no gradient: the
// approximate joint training of §3.2 does not back-propagate into the proposals' boxes):
// the pre_nms_top_n anchors with the largest objectness logit (stable: ties to the
// lower index), decoded with the (1,1,1,1) coder, clipped to image_w x image_h, boxes
// narrower or shorter than min_size dropped, NMS, then the first post_nms_top_n.
Proposals propose(const Tensor& objectness, const Tensor& deltas, int64_t n,
                  const std::vector<Box>& anchors, int image_w, int image_h,
                  const ProposalLayerOptions& o);

}  // namespace dl::models
