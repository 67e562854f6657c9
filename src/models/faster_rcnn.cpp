#include "models/faster_rcnn.h"

#include <algorithm>

#include "detection/box_coder.h"
#include "detection/sampler.h"
#include "image/transforms.h"
#include "util/timing.h"

namespace dl::models {

nn::ConfigFields FasterRcnnConfig::fields() {
  nn::ConfigFields f("faster_rcnn", "a faster_rcnn model");
  f.nested("fast_rcnn", fast_rcnn.fields());
  f.nested("rpn", rpn.fields());
  f.field("roi_align", roi_align);
  return f;
}

FasterRcnn::FasterRcnn(const FasterRcnnConfig& cfg, Rng& rng) : config(cfg) {
  fast_rcnn = std::make_shared<FastRcnn>(cfg.fast_rcnn, rng);
  fast_rcnn->roi_align = cfg.roi_align;
  rpn = std::make_shared<Rpn>(cfg.fast_rcnn.c3, cfg.rpn, rng);
  register_module("fast_rcnn", fast_rcnn);
  register_module("rpn", rpn);
}

FasterRcnnLoss FasterRcnn::losses(const DetectionBatch& b, const FasterRcnnTrainingOptions& o,
                                  Rng& rng) {
  const int64_t N = b.images.size(0);
  Var feat = fast_rcnn->features(Var(b.images));
  const RpnOutput r = rpn->head(feat);
  // Anchors on the padded batch's grid, as torchvision places them.
  const std::vector<Box> anchors =
      rpn->anchors({static_cast<int>(feat.size(2)), static_cast<int>(feat.size(3))},
                   static_cast<int>(b.images.size(2)), static_cast<int>(b.images.size(3)));

  // 1. the RPN's losses (§3.1.2)
  std::vector<RpnTargets> targets;
  for (int64_t n = 0; n < N; ++n) targets.push_back(rpn_targets(anchors, b.boxes[n], o.rpn, rng));
  const RpnLoss rl = rpn_loss(r, targets);

  // 2. proposals from the current RPN, fixed boxes from here on (§3.2), then Fast
  //    R-CNN's RoI sampling with the ground truth added (§2.3)
  RoiSamplingConfig sc;
  sc.rois_per_image = o.rois_per_image;
  sc.fg_fraction = o.fg_fraction;
  sc.fg_iou = 0.5f;
  sc.bg_iou_lo = o.bg_iou_lo;
  std::vector<float> rois;
  std::vector<int> labels;
  std::vector<BoxDelta> box_targets;
  std::vector<int> matched;
  for (int64_t n = 0; n < N; ++n) {
    const Proposals p = propose(r.objectness.value(), r.deltas.value(), n, anchors, b.widths[n],
                                b.heights[n], o.proposals);
    const RoiSample s = sample_rois(p.boxes, b.boxes[n], b.labels[n], sc, rcnn_box_coder(), rng);
    for (size_t i = 0; i < s.rois.size(); ++i) {
      rois.insert(rois.end(), {float(n), s.rois[i].x1, s.rois[i].y1, s.rois[i].x2, s.rois[i].y2});
      labels.push_back(s.labels[i]);
      box_targets.push_back(s.targets[i]);
      matched.push_back(s.matched[i]);
    }
  }

  // 3. Fast R-CNN's multitask loss on the sampled RoIs
  FasterRcnnLoss L;
  L.rpn_objectness = rl.objectness;
  L.rpn_box = rl.box;
  L.rois = static_cast<int64_t>(labels.size());
  for (int l : labels) L.foreground += l > 0;
  L.features = feat;
  L.roi_boxes = Tensor({L.rois, 5});
  std::copy(rois.begin(), rois.end(), L.roi_boxes.begin());
  if (L.rois == 0) {  // no proposal and no object in any image: the RPN alone learns
    L.classification = L.localization = ag::mul(ag::sum_all(feat), 0.0f);
  } else {
    const FastRcnnOutput out = fast_rcnn->head(fast_rcnn->pool_rois(feat, L.roi_boxes));
    const FastRcnnLoss hl = fast_rcnn_loss(out.scores, out.deltas, labels, box_targets, o.lambda);
    L.classification = hl.classification;
    L.localization = hl.localization;
  }
  L.labels = std::move(labels);
  L.matched = std::move(matched);
  L.total = ag::add(ag::add(L.rpn_objectness, L.rpn_box),
                    ag::add(L.classification, ag::mul(L.localization, o.lambda)));
  return L;
}

RpnView FasterRcnn::run_rpn(const Image& img, FasterRcnnStageTimes* t) {
  NoGradGuard no_grad;
  FasterRcnnStageTimes local;
  FasterRcnnStageTimes& st = t ? *t : local;
  RpnView v;
  {
    ScopedTimer timer(st.fast.conv);
    Tensor x = backbone_input(img);
    v.features = fast_rcnn->features(Var(x.reshape({1, 3, img.height, img.width})));
  }
  ScopedTimer timer(st.rpn);
  v.out = rpn->head(v.features);
  v.anchors = rpn->anchors({static_cast<int>(v.features.size(2)), static_cast<int>(v.features.size(3))},
                           img.height, img.width);
  return v;
}

Proposals FasterRcnn::proposals(const Image& img, const ProposalLayerOptions& o) {
  const RpnView v = run_rpn(img);
  return propose(v.out.objectness.value(), v.out.deltas.value(), 0, v.anchors, img.width,
                 img.height, o);
}

std::vector<Detection> FasterRcnn::detect(const Image& img, const FasterRcnnDetectOptions& o,
                                          FasterRcnnStageTimes* t) {
  return detect_on_map(img, o, t).detections;
}

FasterRcnn::DetectionsOnMap FasterRcnn::detect_on_map(const Image& img,
                                                      const FasterRcnnDetectOptions& o,
                                                      FasterRcnnStageTimes* t) {
  NoGradGuard no_grad;
  FasterRcnnStageTimes local;
  FasterRcnnStageTimes& st = t ? *t : local;
  const RpnView v = run_rpn(img, &st);
  Proposals p;
  {
    ScopedTimer timer(st.proposals);
    p = propose(v.out.objectness.value(), v.out.deltas.value(), 0, v.anchors, img.width,
                img.height, o.proposals);
  }
  return {fast_rcnn->detect_on_features(v.features, img.width, img.height, p.boxes, o.head, &st.fast),
          v.features};
}

std::vector<std::vector<int>> sample_object_rois(const FasterRcnnLoss& f, int64_t images,
                                                 int per_image, Rng& rng) {
  std::vector<std::vector<int>> out(static_cast<size_t>(images));
  for (int64_t n = 0; n < images; ++n) {
    std::vector<int> pos;
    for (int64_t i = 0; i < f.rois; ++i)
      if (static_cast<int64_t>(f.roi_boxes[i * 5]) == n && f.labels[i] > 0)
        pos.push_back(static_cast<int>(i));
    const std::vector<int> ones(pos.size(), 1);
    for (int k : sample_balanced(ones, per_image, 1.0f, rng).positives) out[n].push_back(pos[k]);
  }
  return out;
}

Tensor detection_rois(const std::vector<Detection>& dets, int64_t n) {
  Tensor rois({n, 5});
  for (int64_t i = 0; i < n; ++i) {
    const Box& b = dets.at(i).box;
    const float xyxy[4] = {b.x1, b.y1, b.x2, b.y2};
    std::copy(xyxy, xyxy + 4, rois.data() + i * 5 + 1);
  }
  return rois;
}

}  // namespace dl::models
