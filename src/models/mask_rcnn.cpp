#include "models/mask_rcnn.h"

#include <algorithm>

#include "detection/paste_masks.h"
#include "detection/sampler.h"
#include "image/transforms.h"
#include "util/timing.h"

namespace dl::models {

nn::ConfigFields MaskRcnnConfig::fields() {
  nn::ConfigFields f("mask_rcnn", "a mask_rcnn model");
  f.nested("faster_rcnn", faster_rcnn.fields());
  f.nested("mask_head", mask_head.fields());
  return f;
}

MaskBatch make_mask_batch(const DetectionDataset& ds, const std::vector<std::vector<Mask>>& masks,
                          const std::vector<int64_t>& idx, bool flip, Rng& rng) {
  MaskBatch b;
  b.detection = make_detection_batch(ds, idx, flip, rng);
  for (size_t n = 0; n < idx.size(); ++n) {
    const std::vector<Mask>& ms = masks.at(idx[n]);
    const int64_t G = static_cast<int64_t>(ms.size());
    const int h = ds.items[idx[n]].image.height, w = ds.items[idx[n]].image.width;
    Tensor t({G, h, w});
    for (int64_t g = 0; g < G; ++g)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          t[(g * h + y) * w + x] = ms[g].at(b.detection.flipped[n] ? w - 1 - x : x, y);
    b.masks.push_back(std::move(t));
  }
  return b;
}

MaskRcnn::MaskRcnn(const MaskRcnnConfig& cfg, Rng& rng) : config(cfg) {
  faster_rcnn = std::make_shared<FasterRcnn>(cfg.faster_rcnn, rng);
  mask_head = std::make_shared<MaskHead>(cfg.faster_rcnn.fast_rcnn.c3, cfg.classes(), cfg.mask_head, rng);
  register_module("faster_rcnn", faster_rcnn);
  register_module("mask_head", mask_head);
}

MaskRcnnLoss MaskRcnn::losses(const MaskBatch& b, const MaskRcnnTrainingOptions& o, Rng& rng) {
  MaskRcnnLoss L;
  L.faster = faster_rcnn->losses(b.detection, o.faster, rng);
  const FasterRcnnLoss& f = L.faster;
  const int64_t N = static_cast<int64_t>(b.masks.size());
  const int M = config.mask_head.mask_size();
  // Per image: its positive RoIs, at most mask_rois_per_image of them drawn at random.
  std::vector<float> rois;
  std::vector<int> classes;
  std::vector<Tensor> targets;
  const std::vector<std::vector<int>> sampled = sample_object_rois(f, N, o.mask_rois_per_image, rng);
  for (int64_t n = 0; n < N; ++n) {
    std::vector<Box> boxes;
    std::vector<int> matched;
    for (int i : sampled[n]) {
      const float* r = f.roi_boxes.data() + i * 5;
      rois.insert(rois.end(), r, r + 5);
      boxes.push_back({r[1], r[2], r[3], r[4]});
      matched.push_back(f.matched[i]);
      classes.push_back(f.labels[i] - 1);  // the mask channel of object class k
    }
    if (!boxes.empty()) targets.push_back(project_masks_on_boxes(b.masks[n], boxes, matched, M));
  }
  L.mask_rois = static_cast<int64_t>(classes.size());
  if (L.mask_rois == 0) {
    L.mask = ag::mul(ag::sum_all(f.features), 0.0f);
  } else {
    Tensor roi_tensor({L.mask_rois, 5});
    std::copy(rois.begin(), rois.end(), roi_tensor.begin());
    Tensor target({L.mask_rois, M, M});
    int64_t at = 0;
    for (const Tensor& t : targets) {
      std::copy(t.begin(), t.end(), target.begin() + at);
      at += t.numel();
    }
    const Var logits = (*mask_head)(mask_head->pool_rois(f.features, roi_tensor));
    L.mask = mask_loss(logits, classes, target);
  }
  L.total = ag::add(f.total, ag::mul(L.mask, o.mask_weight));
  return L;
}

Tensor MaskRcnn::mask_probabilities_for(const Var& features, const std::vector<Detection>& dets,
                                        int width, int height, MaskRcnnStageTimes* t) {
  NoGradGuard no_grad;
  MaskRcnnStageTimes local;
  MaskRcnnStageTimes& st = t ? *t : local;
  const int64_t D = static_cast<int64_t>(dets.size());
  const Tensor rois = detection_rois(dets, D);
  Tensor boxes({D, 4});
  std::vector<int> classes;
  for (int64_t i = 0; i < D; ++i) {
    const Box& b = dets[i].box;
    const float xyxy[4] = {b.x1, b.y1, b.x2, b.y2};
    std::copy(xyxy, xyxy + 4, boxes.data() + i * 4);
    classes.push_back(dets[i].cls);
  }
  if (D == 0) return Tensor({0, 1, height, width});
  Var pooled;
  {
    ScopedTimer timer(st.mask_pool);
    pooled = mask_head->pool_rois(features, rois);
  }
  Tensor probs;
  {
    ScopedTimer timer(st.mask_head);
    probs = mask_probabilities((*mask_head)(pooled).value(), classes);
  }
  ScopedTimer timer(st.paste);
  return paste_masks_in_image(probs, boxes, height, width);
}

std::vector<Detection> MaskRcnn::detect(const Image& img, const MaskRcnnDetectOptions& o,
                                        MaskRcnnStageTimes* t) {
  NoGradGuard no_grad;
  MaskRcnnStageTimes local;
  MaskRcnnStageTimes& st = t ? *t : local;
  FasterRcnn::DetectionsOnMap d = faster_rcnn->detect_on_map(img, o.faster, &st.faster);
  std::vector<Detection>& dets = d.detections;
  // The detections come best first: the masks are for the first max_masks.
  const std::vector<Detection> top(dets.begin(),
                                   dets.begin() + std::min<size_t>(dets.size(), o.max_masks));
  const Tensor pasted = mask_probabilities_for(d.features, top, img.width, img.height, &st);
  const int64_t HW = static_cast<int64_t>(img.height) * img.width;
  ScopedTimer timer(st.paste);
  for (size_t i = 0; i < top.size(); ++i) {
    std::vector<uint8_t>& m = dets[i].mask;
    m.resize(HW);
    for (int64_t j = 0; j < HW; ++j) m[j] = pasted[i * HW + j] > o.mask_threshold ? 1 : 0;
  }
  return std::move(d.detections);
}

}  // namespace dl::models
