#include "models/mask_head.h"

#include <fmt/core.h>

#include <cmath>

#include "detection/roi_align.h"
#include "detection/roi_pool.h"
#include "models/backbone.h"
#include "nn/init.h"

namespace dl::models {

nn::ConfigFields MaskHeadConfig::fields() {
  nn::ConfigFields f("mask_head", "a mask_rcnn model");
  f.field("channels", channels, 1, 4096);
  f.field("convs", convs, 0, 16);
  f.field("pool", pool, 1, 64);
  f.field("roi_pool", roi_pool);
  return f;
}

ConvTranspose2d::ConvTranspose2d(int in_c, int out_c, int k, int stride, Rng& rng) {
  Tensor w({in_c, out_c, k, k});
  nn::kaiming_uniform_(w, rng);
  weight = register_parameter("weight", w);
  bias = register_parameter("bias", Tensor({out_c}));
  options.stride_h = options.stride_w = stride;
}

Var ConvTranspose2d::forward(const Var& x) { return ag::conv_transpose2d(x, weight, bias, options); }

MaskHead::MaskHead(int in_channels, int classes, const MaskHeadConfig& cfg, Rng& rng)
    : config(cfg) {
  int c = in_channels;
  for (int i = 0; i < cfg.convs; ++i) {
    fcn.push_back(std::make_shared<nn::Conv2d>(c, cfg.channels, 3, 1, 1, rng));
    register_module(fmt::format("mask_fcn{}", i + 1), fcn.back());
    c = cfg.channels;
  }
  deconv = std::make_shared<ConvTranspose2d>(c, cfg.channels, 2, 2, rng);
  logits = std::make_shared<nn::Conv2d>(cfg.channels, classes, 1, 1, 0, rng);
  register_module("conv5_mask", deconv);
  register_module("mask_fcn_logits", logits);
}

Var MaskHead::pool_rois(const Var& features, const Tensor& rois) {
  const float scale = 1.0f / kBackboneStride;
  return config.roi_pool ? ag::roi_pool(features, rois, config.pool, config.pool, scale)
                         : ag::roi_align(features, rois, config.pool, config.pool, scale,
                                                        kMaskSamplingRatio);
}

Var MaskHead::forward(const Var& pooled) {
  Var h = pooled;
  for (auto& conv : fcn) h = ag::relu((*conv)(h));
  return (*logits)(ag::relu((*deconv)(h)));
}

Tensor project_masks_on_boxes(const Tensor& gt_masks, const std::vector<Box>& rois,
                              const std::vector<int>& matched, int M) {
  const int64_t R = static_cast<int64_t>(rois.size());
  check_shape(gt_masks.dim() == 3 && matched.size() == rois.size(), "project_masks_on_boxes",
              fmt::format("masks {}, {} rois, {} matches", shape_str(gt_masks.shape()), R,
                          matched.size()));
  const int64_t G = gt_masks.size(0);
  Tensor r({R, 5});
  for (int64_t i = 0; i < R; ++i) {
    check_shape(matched[i] >= 0 && matched[i] < G, "project_masks_on_boxes",
                fmt::format("match {} of {} masks", matched[i], G));
    r[i * 5] = static_cast<float>(matched[i]);  // the "batch index" picks the mask
    r[i * 5 + 1] = rois[i].x1;
    r[i * 5 + 2] = rois[i].y1;
    r[i * 5 + 3] = rois[i].x2;
    r[i * 5 + 4] = rois[i].y2;
  }
  if (R == 0) return Tensor({0, M, M});
  const Tensor x = gt_masks.reshape({G, 1, gt_masks.size(1), gt_masks.size(2)});
  return roi_align_forward(x, r, M, M, 1.0f, -1, false).reshape({R, M, M});
}

Var mask_loss(const Var& logits, const std::vector<int>& labels, const Tensor& targets) {
  const int64_t R = static_cast<int64_t>(labels.size());
  check_shape(logits.dim() == 4 && logits.size(0) == R && logits.size(2) == logits.size(3),
              "mask_loss", fmt::format("logits {}, {} labels", shape_str(logits.shape()), R));
  if (R == 0) return ag::mul(ag::sum_all(logits), 0.0f);
  const int64_t C = logits.size(1), M = logits.size(2);
  check_shape(targets.dim() == 3 && targets.size(0) == R && targets.size(1) == M &&
                  targets.size(2) == M,
              "mask_loss", fmt::format("targets {}, expected [{}, {}, {}]",
                                       shape_str(targets.shape()), R, M, M));
  // Row i * C + labels[i] of the [R C, M M] logits: the ground-truth class's mask only.
  Tensor index({R});
  for (int64_t i = 0; i < R; ++i) {
    check_shape(labels[i] >= 0 && labels[i] < C, "mask_loss",
                fmt::format("label {} of {} classes", labels[i], C));
    index[i] = static_cast<float>(i * C + labels[i]);
  }
  const Var own = ag::index_select(ag::reshape(logits, {R * C, M * M}), 0, index);
  return ag::binary_cross_entropy_with_logits(own, targets.reshape({R, M * M}));
}

Tensor mask_probabilities(const Tensor& logits, const std::vector<int>& labels) {
  const int64_t R = static_cast<int64_t>(labels.size());
  check_shape(logits.dim() == 4 && logits.size(0) == R, "mask_probabilities",
              fmt::format("logits {}, {} labels", shape_str(logits.shape()), R));
  const int64_t C = logits.size(1), MM = logits.size(2) * logits.size(3);
  Tensor out({R, 1, logits.size(2), logits.size(3)});
  for (int64_t i = 0; i < R; ++i) {
    check_shape(labels[i] >= 0 && labels[i] < C, "mask_probabilities",
                fmt::format("label {} of {} classes", labels[i], C));
    const float* src = logits.data() + (i * C + labels[i]) * MM;
    for (int64_t j = 0; j < MM; ++j) out[i * MM + j] = 1.0f / (1.0f + std::exp(-src[j]));
  }
  return out;
}

}  // namespace dl::models
