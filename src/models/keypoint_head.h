// Mask R-CNN's keypoint branch (He, Gkioxari, Dollár, Girshick, ICCV 2017, §5 "Mask
// R-CNN for Human Pose Estimation"): "model a keypoint's location as a one-hot mask, and
// adopt Mask R-CNN to predict K masks, one for each of K keypoint types".
//
//   RoI on the shared map (stride 4)
//     -> RoIAlign 14 x 14 (2 x 2 samples per bin, as the mask branch)
//     -> conv3x3 - ReLU, `convs` times ("kp_fcn1..N"; the paper: 8 x 512 channels)
//     -> 2x transposed conv (k 4, stride 2, pad 1) to K channels ("kps_score_lowres") 28 x 28
//     -> bilinear 2x up-sampling (align_corners = false)                              56 x 56
//   = K heatmaps, one per joint, as torchvision's KeypointRCNNPredictor.
//
// Training target (§5): for each of the K joints of a positive RoI, a 56 x 56 one-hot
// mask with the joint's pixel as its only foreground; the loss is the cross-entropy of a
// softmax over the m^2 positions ("which encourages a single point to be detected"),
// averaged over the visible joints of all positive RoIs (torchvision's keypointrcnn_loss).
// At test time each heatmap is resized to its box and the argmax is the joint
// (torchvision's heatmaps_to_keypoints).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "models/mask_head.h"
#include "nn/config_fields.h"
#include "nn/layers.h"
#include "tensor/rng.h"

namespace dl::models {

struct KeypointHeadConfig {
  int joints = 14;        // K heatmaps (the pose figures' 14 joints; COCO: 17)
  int channels = 32;      // width of the 3x3 convs (paper / torchvision: 512)
  // 3x3 convs before the up-sampling (paper / torchvision: 8, whose 17 x 17-cell view
  // spans the 14 x 14 RoI, so a foot's map sees the face that tells left from right:
  // lessons/07 measured PCK 0.838 with 8 against 0.806 with 4; 4 keeps training within
  // five minutes on two shared cores).
  int convs = 4;
  int pool = 14;          // RoIAlign output side; the heatmaps are 4 * pool
  int heatmap_size() const { return 4 * pool; }
  nn::ConfigFields fields();
};

class KeypointHead : public nn::Module {
 public:
  KeypointHead(int in_channels, const KeypointHeadConfig& cfg, Rng& rng);
  // RoIs [R, 5] (batch index, x1, y1, x2, y2 in image pixels) on the stride-4 map ->
  // [R, C, pool, pool] by RoIAlign (torchvision's MultiScaleRoIAlign, sampling ratio 2).
  Var pool_rois(const Var& features, const Tensor& rois);
  // Pooled RoIs -> heatmap logits [R, K, 4 pool, 4 pool].
  Var forward(const Var& pooled) override;
  std::string name() const override { return "KeypointHead"; }

  KeypointHeadConfig config;
  std::vector<std::shared_ptr<nn::Conv2d>> fcn;  // "kp_fcn1" ... "kp_fcnN"
  std::shared_ptr<ConvTranspose2d> deconv;       // "kps_score_lowres"
};

// The one-hot targets of R RoIs (torchvision's keypoints_to_heatmap): keypoints[i] holds
// RoI i's matched person's joints (x, y, v per joint, 3K values), rois[i] the RoI. Each
// joint maps to the cell floor((x - x1) * m / (x2 - x1)) (a joint exactly on the right or
// bottom edge to the last cell) and to the flat index y * m + x of the m x m grid; it is
// valid when it is labelled (v > 0) and inside the RoI.
struct KeypointTargets {
  std::vector<int> index;     // R * K flat indices (0 where invalid)
  std::vector<uint8_t> valid; // R * K
};
KeypointTargets keypoint_targets(const std::vector<std::vector<float>>& keypoints,
                                 const std::vector<Box>& rois, int m);

// L_kp = mean over the valid (RoI, joint) pairs of the cross-entropy of a softmax over
// the m^2 positions of logits[i, k] against the target cell (torchvision's
// keypointrcnn_loss). logits [R, K, m, m]. No valid joint: 0 (with a gradient of 0).
Var keypoint_loss(const Var& logits, const KeypointTargets& targets);

// Heatmaps -> joints (torchvision's heatmaps_to_keypoints): each RoI's K maps resized to
// ceil(w) x ceil(h) of its box (w, h at least 1) by bicubic interpolation
// (align_corners = false, as torch.nn.functional.interpolate), the argmax of each
// (first maximum in row-major order) taken as the pixel (x, y), and the joint placed at
// x1 + (x + 0.5) * w / ceil(w) (Heckbert's c = d + 0.5), likewise y.
struct HeatmapKeypoints {
  std::vector<float> xy;     // R * K * 2: x, y in image pixels
  std::vector<float> score;  // R * K: the resized heatmap's logit at the argmax
};
HeatmapKeypoints heatmaps_to_keypoints(const Tensor& maps, const std::vector<Box>& rois);

// PyTorch's bicubic resize (upsample_bicubic2d, align_corners = false, A = -0.75, the
// source taps clamped at the border) of one plane [h, w] to [out_h, out_w].
std::vector<float> resize_bicubic(const float* src, int h, int w, int out_h, int out_w);

}  // namespace dl::models
