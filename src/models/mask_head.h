// Mask R-CNN's mask branch (He, Gkioxari, Dollár, Girshick, ICCV 2017, §3 and Fig. 4
// right): a small FCN on each RoI that predicts one m x m binary mask per class.
//
//   RoI on the shared map (stride 4)
//     -> RoIAlign 14 x 14 (§3: bilinear samples, no quantisation; or RoI max pooling
//        for Table 2c's ablation)
//     -> conv3x3 - ReLU, four times ("mask_fcn1..4")
//     -> 2x transposed conv (k 2, stride 2) - ReLU ("conv5_mask")    28 x 28
//     -> conv1x1 to K channels ("mask_fcn_logits"), one mask per object class
//
// The loss (§3 "Mask Representation" and "Loss Function"): a per-pixel sigmoid and binary
// cross-entropy on the mask of the RoI's ground-truth class only -- the other classes'
// masks get no gradient, so the classes do not compete (the box branch decides the
// class). L_mask is defined on positive RoIs only; its target is the ground-truth mask
// cropped to the RoI and resized to m x m ("the intersection between an RoI and its
// associated ground-truth mask"), done by RoIAlign on the full-image mask exactly as
// torchvision's project_masks_on_boxes.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "nn/config_fields.h"
#include "nn/layers.h"
#include "tensor/rng.h"

namespace dl::models {

// RoIAlign's samples per bin side in the mask branch (Detectron's and torchvision's 2).
constexpr int kMaskSamplingRatio = 2;

struct MaskHeadConfig {
  int channels = 32;      // width of the four 3x3 convs (paper / torchvision: 256)
  int convs = 4;          // 3x3 convs before the up-sampling (the paper's "x4")
  int pool = 14;          // RoIAlign output side; the masks are 2 * pool
  bool roi_pool = false;  // RoI max pooling instead of RoIAlign (Table 2c ablation)
  int mask_size() const { return 2 * pool; }
  nn::ConfigFields fields();
};

// A transposed convolution ("deconv"): weight [in, out, k, k], PyTorch's layout.
class ConvTranspose2d : public nn::Module {
 public:
  ConvTranspose2d(int in_channels, int out_channels, int kernel, int stride, Rng& rng);
  Var forward(const Var& x) override;
  std::string name() const override { return "ConvTranspose2d"; }
  Var weight, bias;
  ag::Conv2dOptions options;
};

class MaskHead : public nn::Module {
 public:
  // in_channels: the shared map's; classes: object classes K (no background mask).
  MaskHead(int in_channels, int classes, const MaskHeadConfig& cfg, Rng& rng);
  // RoIs [R, 5] (batch index, x1, y1, x2, y2 in image pixels) on the stride-4 map ->
  // [R, C, pool, pool]: RoIAlign with 2 x 2 samples per bin (torchvision's
  // MultiScaleRoIAlign), or RoI max pooling with cfg.roi_pool.
  Var pool_rois(const Var& features, const Tensor& rois);
  // Pooled RoIs -> mask logits [R, K, 2 pool, 2 pool].
  Var forward(const Var& pooled) override;
  std::string name() const override { return "MaskHead"; }

  MaskHeadConfig config;
  std::vector<std::shared_ptr<nn::Conv2d>> fcn;  // "mask_fcn1" ... "mask_fcnN"
  std::shared_ptr<ConvTranspose2d> deconv;       // "conv5_mask"
  std::shared_ptr<nn::Conv2d> logits;            // "mask_fcn_logits"
};

// The mask targets of one image's positive RoIs (torchvision's project_masks_on_boxes):
// gt_masks [G, H, W] (0/1 floats), rois[i] matched to ground truth matched[i] ->
// [R, M, M], RoIAlign of the matched mask over the RoI (scale 1, adaptive sampling,
// aligned = false). The targets are fractions at the mask's edges, used as they are.
Tensor project_masks_on_boxes(const Tensor& gt_masks, const std::vector<Box>& rois,
                              const std::vector<int>& matched, int M);

// L_mask = mean over the positive RoIs' pixels of BCE(sigmoid(logits[i, labels[i]]),
// targets[i]) (torchvision's maskrcnn_loss). logits [R, C, M, M], labels[i] the channel
// of RoI i's ground-truth class, targets [R, M, M]. No RoI: 0 (with a gradient of 0).
Var mask_loss(const Var& logits, const std::vector<int>& labels, const Tensor& targets);

// Inference (torchvision's maskrcnn_inference): sigmoid of each detection's own class's
// mask, [R, 1, M, M].
Tensor mask_probabilities(const Tensor& logits, const std::vector<int>& labels);

}  // namespace dl::models
