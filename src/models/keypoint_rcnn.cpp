#include "models/keypoint_rcnn.h"

#include <fmt/core.h>

#include <algorithm>

#include "detection/sampler.h"
#include "util/timing.h"

namespace dl::models {

nn::ConfigFields KeypointRcnnConfig::fields() {
  nn::ConfigFields f("keypoint_rcnn", "a keypoint_rcnn model");
  f.nested("faster_rcnn", faster_rcnn.fields());
  f.nested("keypoint_head", keypoint_head.fields());
  return f;
}

KeypointBatch make_keypoint_batch(const KeypointDataset& ds, const std::vector<int64_t>& idx,
                                  bool flip, const std::vector<int>& mirror, Rng& rng) {
  KeypointBatch b;
  DetectionBatch& d = b.detection;
  int H = 0, W = 0;
  for (int64_t i : idx) {
    H = std::max(H, ds.items.at(i).image.height);
    W = std::max(W, ds.items.at(i).image.width);
  }
  d.images = Tensor({static_cast<int64_t>(idx.size()), 3, H, W});
  for (size_t n = 0; n < idx.size(); ++n) {
    const KeypointItem& item = ds.items[idx[n]];
    const bool mirrored = flip && rng.bernoulli(0.5f);  // make_detection_batch's draw
    copy_into_batch(item.image, mirrored, d.images, static_cast<int64_t>(n));
    const float w = static_cast<float>(item.image.width);
    std::vector<float> kp = item.keypoints;
    if (mirrored) {
      const size_t K = kp.size() / 3;
      check_shape(mirror.size() == K, "make_keypoint_batch",
                  fmt::format("a mirror of {} joints for {} joints", mirror.size(), K));
      for (size_t j = 0; j < K; ++j) {
        const float* src = item.keypoints.data() + 3 * j;
        float* dst = kp.data() + 3 * mirror[j];
        dst[0] = src[2] > 0 ? w - src[0] : src[0];
        dst[1] = src[1];
        dst[2] = src[2];
      }
    }
    d.widths.push_back(item.image.width);
    d.heights.push_back(item.image.height);
    d.boxes.push_back({mirrored ? hflip_box(item.box, w) : item.box});
    d.labels.push_back({0});
    d.flipped.push_back(mirrored);
    b.keypoints.push_back({std::move(kp)});
  }
  return b;
}

KeypointRcnn::KeypointRcnn(const KeypointRcnnConfig& cfg, Rng& rng) : config(cfg) {
  faster_rcnn = std::make_shared<FasterRcnn>(cfg.faster_rcnn, rng);
  keypoint_head = std::make_shared<KeypointHead>(cfg.faster_rcnn.fast_rcnn.c3, cfg.keypoint_head, rng);
  register_module("faster_rcnn", faster_rcnn);
  register_module("keypoint_head", keypoint_head);
}

KeypointRcnnLoss KeypointRcnn::losses(const KeypointBatch& b, const KeypointRcnnTrainingOptions& o,
                                      Rng& rng) {
  KeypointRcnnLoss L;
  L.faster = faster_rcnn->losses(b.detection, o.faster, rng);
  const FasterRcnnLoss& f = L.faster;
  const int64_t N = static_cast<int64_t>(b.keypoints.size());
  // Per image: its positive RoIs, at most keypoint_rois_per_image of them drawn at random,
  // each with the joints of the person it was matched to.
  std::vector<float> rois;
  std::vector<Box> boxes;
  std::vector<std::vector<float>> joints;
  const std::vector<std::vector<int>> sampled = sample_object_rois(f, N, o.keypoint_rois_per_image, rng);
  for (int64_t n = 0; n < N; ++n) {
    for (int i : sampled[n]) {
      const float* r = f.roi_boxes.data() + i * 5;
      rois.insert(rois.end(), r, r + 5);
      boxes.push_back({r[1], r[2], r[3], r[4]});
      joints.push_back(b.keypoints[n].at(f.matched[i]));
    }
  }
  L.keypoint_rois = static_cast<int64_t>(boxes.size());
  if (L.keypoint_rois == 0) {
    L.keypoint = ag::mul(ag::sum_all(f.features), 0.0f);
  } else {
    Tensor roi_tensor({L.keypoint_rois, 5});
    std::copy(rois.begin(), rois.end(), roi_tensor.begin());
    const Var logits = (*keypoint_head)(keypoint_head->pool_rois(f.features, roi_tensor));
    L.keypoint = keypoint_loss(logits, keypoint_targets(joints, boxes, config.keypoint_head.heatmap_size()));
  }
  L.total = ag::add(f.total, ag::mul(L.keypoint, o.keypoint_weight));
  return L;
}

std::vector<Detection> KeypointRcnn::detect(const Image& img, const KeypointRcnnDetectOptions& o,
                                            KeypointRcnnStageTimes* t) {
  NoGradGuard no_grad;
  KeypointRcnnStageTimes local;
  KeypointRcnnStageTimes& st = t ? *t : local;
  FasterRcnn::DetectionsOnMap d = faster_rcnn->detect_on_map(img, o.faster, &st.faster);
  std::vector<Detection>& dets = d.detections;
  const int64_t D = std::min<int64_t>(static_cast<int64_t>(dets.size()), o.max_poses);
  if (D == 0) return std::move(d.detections);
  std::vector<Box> boxes;
  for (int64_t i = 0; i < D; ++i) boxes.push_back(dets[i].box);
  Var pooled;
  {
    ScopedTimer timer(st.keypoint_pool);
    pooled = keypoint_head->pool_rois(d.features, detection_rois(dets, D));
  }
  Tensor maps;
  {
    ScopedTimer timer(st.keypoint_head);
    maps = (*keypoint_head)(pooled).value();
  }
  ScopedTimer timer(st.decode);
  const HeatmapKeypoints kp = heatmaps_to_keypoints(maps, boxes);
  const int64_t K = maps.size(1);
  for (int64_t i = 0; i < D; ++i)
    for (int64_t k = 0; k < K; ++k)
      dets[i].keypoints.insert(dets[i].keypoints.end(),
                               {kp.xy[(i * K + k) * 2], kp.xy[(i * K + k) * 2 + 1], 1.0f});
  return std::move(d.detections);
}

}  // namespace dl::models
