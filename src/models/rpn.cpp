#include "models/rpn.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "detection/matcher.h"
#include "detection/nms.h"
#include "detection/sampler.h"

namespace dl::models {

// Anchor sides 4..1024 pixels and ratios 0.1..10: every anchor keeps a width and a
// height of at least one pixel after rounding (anchors.h), so it can be encoded.
nn::ConfigFields RpnConfig::fields() {
  nn::ConfigFields f("rpn", "an rpn");
  f.field("channels", channels, 1, 4096);
  f.field("anchor_sizes", anchor_sizes, 4.0f, 1024.0f).length(1, 8);
  f.field("aspect_ratios", aspect_ratios, 0.1f, 10.0f).length(1, 8);
  return f;
}

Rpn::Rpn(int in_channels, const RpnConfig& cfg, Rng& rng) : config(cfg) {
  const int k = cfg.anchors_per_location();
  conv = std::make_shared<Conv2d>(in_channels, cfg.channels, 3, 1, 1, rng);
  cls_logits = std::make_shared<Conv2d>(cfg.channels, k, 1, 1, 0, rng);
  bbox_pred = std::make_shared<Conv2d>(cfg.channels, 4 * k, 1, 1, 0, rng);
  // The paper (§3.1.3) and torchvision: new layers from N(0, 0.01), zero biases, so the
  // first objectness is ~0.5 everywhere and the first deltas ~0 (the anchors themselves).
  for (Conv2d* c : {conv.get(), cls_logits.get(), bbox_pred.get()}) {
    for (float& w : c->weight.value()) w = rng.normal(0.0f, 0.01f);
    c->bias.value().fill(0.0f);
  }
  register_module("conv", conv);
  register_module("cls_logits", cls_logits);
  register_module("bbox_pred", bbox_pred);
}

RpnOutput Rpn::head(const Var& features) {
  Var t = ag::relu((*conv)(features));
  return {(*cls_logits)(t), (*bbox_pred)(t)};
}

std::vector<Box> Rpn::anchors(GridSize grid, int image_h, int image_w) const {
  return multilevel_anchors({{config.anchor_sizes, config.aspect_ratios}}, {grid}, image_h,
                            image_w);
}

RpnTargets rpn_targets(const std::vector<Box>& anchors, const std::vector<Box>& gt_boxes,
                       const RpnTrainingOptions& o, Rng& rng) {
  const Matcher matcher{o.positive_iou, o.negative_iou, /*allow_low_quality_matches=*/true};
  RpnTargets t;
  t.matched_gt = match_boxes(gt_boxes, anchors, matcher);
  t.labels.resize(anchors.size());
  for (size_t i = 0; i < anchors.size(); ++i) {
    const int m = t.matched_gt[i];
    t.labels[i] = m >= 0 ? 1 : m == kBelowLowThreshold ? 0 : -1;
  }
  const SampledIndices s = sample_balanced(t.labels, o.anchors_per_image, o.positive_fraction, rng);
  t.positives = s.positives;
  t.negatives = s.negatives;
  for (int i : t.positives)
    t.positive_targets.push_back(encode_box(gt_boxes[t.matched_gt[i]], anchors[i], BoxCoder{}));
  return t;
}

RpnLoss rpn_loss(const RpnOutput& out, const std::vector<RpnTargets>& targets) {
  const Var& obj = out.objectness;
  check_shape(obj.dim() == 4 && out.deltas.dim() == 4 && out.deltas.size(0) == obj.size(0) &&
                  out.deltas.size(1) == 4 * obj.size(1) && out.deltas.size(2) == obj.size(2) &&
                  out.deltas.size(3) == obj.size(3) &&
                  static_cast<int64_t>(targets.size()) == obj.size(0),
              "rpn_loss",
              fmt::format("objectness {}, deltas {}, {} images of targets", shape_str(obj.shape()),
                          shape_str(out.deltas.shape()), targets.size()));
  const int64_t N = obj.size(0), k = obj.size(1), h = obj.size(2), w = obj.size(3);
  const int64_t per_image = h * w * k;
  // Anchor order (anchors.h): [h, w, k], so the maps are permuted before flattening,
  // exactly as torchvision's concat_box_prediction_layers does.
  Var logits = ag::reshape(ag::permute(obj, {0, 2, 3, 1}), {N * per_image});
  Var deltas = ag::reshape(ag::permute(ag::reshape(out.deltas, {N, k, 4, h, w}), {0, 3, 4, 1, 2}),
                           {N * per_image, 4});
  std::vector<float> pos, neg, tgt;
  for (int64_t n = 0; n < N; ++n) {
    const RpnTargets& t = targets[n];
    check_shape(t.positive_targets.size() == t.positives.size(), "rpn_loss",
                "one box target per sampled positive");
    for (size_t i = 0; i < t.positives.size(); ++i) {
      check_shape(t.positives[i] >= 0 && t.positives[i] < per_image, "rpn_loss", "anchor index out of range");
      pos.push_back(static_cast<float>(n * per_image + t.positives[i]));
      tgt.insert(tgt.end(), t.positive_targets[i].begin(), t.positive_targets[i].end());
    }
    for (int i : t.negatives) {
      check_shape(i >= 0 && i < per_image, "rpn_loss", "anchor index out of range");
      neg.push_back(static_cast<float>(n * per_image + i));
    }
  }
  const int64_t P = static_cast<int64_t>(pos.size()), S = P + static_cast<int64_t>(neg.size());
  RpnLoss L;
  if (S == 0) {  // nothing sampled: zero losses that still reach the parameters
    L.objectness = ag::mul(ag::sum_all(logits), 0.0f);
    L.box = ag::mul(ag::sum_all(deltas), 0.0f);
    return L;
  }
  // torchvision's order: every image's positives, then every image's negatives.
  Tensor sampled({S}), labels({S});
  std::copy(pos.begin(), pos.end(), sampled.begin());
  std::copy(neg.begin(), neg.end(), sampled.begin() + P);
  for (int64_t i = 0; i < P; ++i) labels[i] = 1.0f;
  L.objectness = ag::binary_cross_entropy_with_logits(ag::index_select(logits, 0, sampled), labels);
  if (P == 0) {
    L.box = ag::mul(ag::sum_all(deltas), 0.0f);
  } else {
    Tensor index({P}), target({P, 4});
    std::copy(pos.begin(), pos.end(), index.begin());
    std::copy(tgt.begin(), tgt.end(), target.begin());
    L.box = ag::mul(ag::smooth_l1(ag::index_select(deltas, 0, index), target, 1.0f / 9.0f,
                                  ag::Reduction::Sum),
                    1.0f / static_cast<float>(S));
  }
  return L;
}

Proposals propose(const Tensor& objectness, const Tensor& deltas, int64_t n,
                  const std::vector<Box>& anchors, int image_w, int image_h,
                  const ProposalLayerOptions& o) {
  const int64_t k = objectness.size(1), h = objectness.size(2), w = objectness.size(3);
  check_shape(objectness.dim() == 4 && n >= 0 && n < objectness.size(0) && deltas.dim() == 4 &&
                  deltas.size(1) == 4 * k && deltas.size(2) == h && deltas.size(3) == w &&
                  static_cast<int64_t>(anchors.size()) == h * w * k,
              "propose",
              fmt::format("objectness {}, deltas {}, {} anchors", shape_str(objectness.shape()),
                          shape_str(deltas.shape()), anchors.size()));
  const int64_t hw = h * w, A = h * w * k;
  // Anchor i = (y * w + x) * k + a reads channel a (objectness) and 4a..4a+3 (deltas).
  const float* logit_map = objectness.data() + n * k * hw;
  const float* delta_map = deltas.data() + n * 4 * k * hw;
  auto logit = [&](int64_t i) { return logit_map[(i % k) * hw + i / k]; };
  std::vector<int64_t> order(A);
  std::iota(order.begin(), order.end(), 0);
  const int64_t top = std::min<int64_t>(A, o.pre_nms_top_n);
  // Only the top ones need sorting; the index tie-break makes it a stable order.
  std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](int64_t a, int64_t b) {
    const float la = logit(a), lb = logit(b);
    return la > lb || (la == lb && a < b);
  });
  std::vector<Box> boxes;
  std::vector<float> scores;
  for (int64_t r = 0; r < top; ++r) {
    const int64_t i = order[r], a = i % k, cell = i / k;
    const BoxDelta d = {delta_map[(4 * a + 0) * hw + cell], delta_map[(4 * a + 1) * hw + cell],
                        delta_map[(4 * a + 2) * hw + cell], delta_map[(4 * a + 3) * hw + cell]};
    const Box b = clip_box(decode_box(d, anchors[i], BoxCoder{}), float(image_w), float(image_h));
    if (!(b.width() >= o.min_size && b.height() >= o.min_size)) continue;
    boxes.push_back(b);
    scores.push_back(1.0f / (1.0f + std::exp(-logit(i))));  // sigmoid, as torch computes it
  }
  Proposals p;
  for (int i : nms(boxes, scores, o.nms_iou, o.post_nms_top_n)) {
    p.boxes.push_back(boxes[i]);
    p.scores.push_back(scores[i]);
  }
  return p;
}

}  // namespace dl::models
