#include "models/fast_rcnn.h"

#include <fmt/core.h>

#include "detection/postprocess.h"
#include "detection/roi_align.h"
#include "detection/roi_pool.h"
#include "detection/sampler.h"
#include "image/transforms.h"
#include "models/crop_classifier.h"
#include "models/classifier.h"
#include "nn/truncated_svd.h"
#include "util/timing.h"

namespace dl::models {

// Ranges: what the program can train (--pool 1..32, --hidden 1..16384, --neck-channels
// 1..1024, --dropout 0..0.95).
nn::ConfigFields FastRcnnConfig::fields() {
  nn::ConfigFields f("fast_rcnn", "a fast_rcnn model");
  backbone_fields(f, c1, c2);
  f.field("c3", c3, 1, 4096);
  f.field("pool", pool, 1, 64);
  f.field("hidden", hidden, 1, 65536);
  f.field("num_classes", num_classes, 2, 10000);
  f.field("dropout", dropout, 0.0f, 0.99f);
  f.constant("stride", kBackboneStride);
  return f;
}

FastRcnn::FastRcnn(const FastRcnnConfig& cfg, Rng& rng) : config(cfg) {
  backbone = make_backbone(3, cfg.c1, cfg.c2, rng);
  neck = std::make_shared<Sequential>();
  neck->add(std::make_shared<Conv2d>(cfg.c2, cfg.c3, 3, 1, 1, rng, false));
  neck->add(std::make_shared<BatchNorm2d>(cfg.c3));
  neck->add(std::make_shared<ReLU>());
  fc6 = std::make_shared<Linear>(cfg.c3 * cfg.pool * cfg.pool, cfg.hidden, rng);
  fc7 = std::make_shared<Linear>(cfg.hidden, cfg.hidden, rng);
  drop6 = std::make_shared<Dropout>(cfg.dropout, rng.next_u64());
  drop7 = std::make_shared<Dropout>(cfg.dropout, rng.next_u64());
  cls_score = std::make_shared<Linear>(cfg.hidden, cfg.num_classes, rng);
  bbox_pred = std::make_shared<Linear>(cfg.hidden, 4 * (cfg.num_classes - 1), rng);
  // §2.3 / released code: the new sibling layers start from N(0, 0.01) (scores) and
  // N(0, 0.001) (boxes) with zero biases, so the first losses are ~log(K+1) and the
  // smooth L1 of the targets themselves.
  for (float& w : cls_score->weight.value()) w = rng.normal(0.0f, 0.01f);
  for (float& w : bbox_pred->weight.value()) w = rng.normal(0.0f, 0.001f);
  fc6_run = fc6;
  fc7_run = fc7;
  register_module("backbone", backbone);
  register_module("neck", neck);
  register_module("fc6", fc6);
  register_module("fc7", fc7);
  register_module("drop6", drop6);
  register_module("drop7", drop7);
  register_module("cls_score", cls_score);
  register_module("bbox_pred", bbox_pred);
}

Var FastRcnn::features(const Var& images) {
  check_shape(images.dim() == 4 && images.size(1) == 3, "FastRcnn",
              "expected [N, 3, H, W] images, got " + shape_str(images.shape()));
  return (*neck)((*backbone)(images));
}

Var FastRcnn::pool_rois(const Var& features, const Tensor& rois) {
  const float scale = 1.0f / kBackboneStride;
  Var p = roi_align ? ag::roi_align(features, rois, config.pool, config.pool, scale, 2)
                    : ag::roi_pool(features, rois, config.pool, config.pool, scale);
  return ag::flatten(p, 1);
}

FastRcnnOutput FastRcnn::head(const Var& pooled) {
  Var h = (*drop6)(ag::relu((*fc6_run)(pooled)));
  h = (*drop7)(ag::relu((*fc7_run)(h)));
  return {(*cls_score)(h), (*bbox_pred)(h)};
}

std::vector<Detection> FastRcnn::detect(const Image& img, const std::vector<Box>& props,
                                        const FastRcnnDetectOptions& o, FastRcnnStageTimes* t) {
  NoGradGuard no_grad;
  FastRcnnStageTimes local;
  FastRcnnStageTimes& st = t ? *t : local;
  Var feat;
  {
    ScopedTimer timer(st.conv);
    Tensor x = backbone_input(img);
    feat = features(Var(x.reshape({1, 3, img.height, img.width})));
  }
  return detect_on_features(feat, img.width, img.height, props, o, &st);
}

std::vector<Detection> FastRcnn::detect_on_features(const Var& feat, int width, int height,
                                                    const std::vector<Box>& props,
                                                    const FastRcnnDetectOptions& o,
                                                    FastRcnnStageTimes* t) {
  NoGradGuard no_grad;
  FastRcnnStageTimes local;
  FastRcnnStageTimes& st = t ? *t : local;
  if (props.empty()) return {};
  const int64_t P = static_cast<int64_t>(props.size());
  Var pooled;
  {
    ScopedTimer timer(st.roi_pool);
    Tensor rois({P, 5});
    for (int64_t i = 0; i < P; ++i) {
      rois[i * 5 + 1] = props[i].x1;
      rois[i * 5 + 2] = props[i].y1;
      rois[i * 5 + 3] = props[i].x2;
      rois[i * 5 + 4] = props[i].y2;
    }
    pooled = pool_rois(feat, rois);
  }
  FastRcnnOutput out;
  Tensor probs;
  {
    ScopedTimer timer(st.fc);
    out = head(pooled);
    probs = softmax_rows(out.scores.value());  // [P, K + 1], per RoI
  }
  ScopedTimer timer(st.nms);
  const Tensor boxes = decode_deltas(out.deltas.value(), props, rcnn_box_coder());  // [P, 4K]
  PostprocessOptions po;
  po.score_threshold = o.threshold;
  po.nms_iou = o.nms;
  po.max_detections = o.max_detections;
  po.drop_empty = true;
  return postprocess_detections(probs, 1, boxes, width, height, po);
}

FastRcnnLoss FastRcnn::losses(const FastRcnnBatch& b, float lambda) {
  FastRcnnOutput o = predict(Var(b.images), b.rois);
  return fast_rcnn_loss(o.scores, o.deltas, b.labels, b.targets, lambda);
}

void FastRcnn::compress_fc(int t6, int t7) {
  fc6_run = t6 > 0 ? std::static_pointer_cast<Module>(truncated_svd_linear(*fc6, t6))
                   : std::static_pointer_cast<Module>(fc6);
  fc7_run = t7 > 0 ? std::static_pointer_cast<Module>(truncated_svd_linear(*fc7, t7))
                   : std::static_pointer_cast<Module>(fc7);
  fc6_run->train(is_training());
  fc7_run->train(is_training());
}

RoiSample sample_rois(const std::vector<Box>& proposals, const std::vector<Box>& gt_boxes,
                      const std::vector<int>& gt_labels, const RoiSamplingConfig& cfg,
                      const BoxCoder& coder, Rng& rng) {
  std::vector<Box> cand = proposals;
  cand.insert(cand.end(), gt_boxes.begin(), gt_boxes.end());
  const std::vector<float> iou = box_iou_matrix(cand, gt_boxes);
  const size_t G = gt_boxes.size();
  std::vector<int> labels(cand.size(), -1), match(cand.size(), -1);
  for (size_t i = 0; i < cand.size(); ++i) {
    float best = 0;
    for (size_t g = 0; g < G; ++g)
      if (iou[i * G + g] > best) best = iou[i * G + g], match[i] = static_cast<int>(g);
    // Degenerate boxes (zero width or height) cannot be encoded: never used.
    if (cand[i].width() <= 0 || cand[i].height() <= 0) continue;
    if (best >= cfg.fg_iou) labels[i] = gt_labels[match[i]] + 1;
    else if (best >= cfg.bg_iou_lo) labels[i] = 0;
  }
  const SampledIndices s = sample_balanced(labels, cfg.rois_per_image, cfg.fg_fraction, rng);
  RoiSample out;
  for (int i : s.positives) {
    out.rois.push_back(cand[i]);
    out.labels.push_back(labels[i]);
    out.targets.push_back(encode_box(gt_boxes[match[i]], cand[i], coder));
    out.matched.push_back(match[i]);
  }
  for (int i : s.negatives) {
    out.rois.push_back(cand[i]);
    out.labels.push_back(0);
    out.targets.push_back({0, 0, 0, 0});
    out.matched.push_back(-1);
  }
  return out;
}

FastRcnnBatch make_fast_rcnn_batch(const DetectionDataset& ds,
                                   const std::vector<std::vector<Box>>& props,
                                   const std::vector<int64_t>& idx, const FastRcnnBatchOptions& o,
                                   Rng rng) {
  const int N = static_cast<int>(idx.size());
  int H = 0, W = 0;
  for (int64_t i : idx) H = std::max(H, ds.items[i].image.height), W = std::max(W, ds.items[i].image.width);
  FastRcnnBatch b;
  b.images = Tensor({N, 3, H, W});  // zero = the mean colour where images are smaller
  RoiSamplingConfig sc;
  sc.rois_per_image = o.rois_per_batch / N;
  sc.fg_fraction = o.fg_fraction;
  sc.bg_iou_lo = o.bg_iou_lo;
  std::vector<float> rois;
  for (int n = 0; n < N; ++n) {
    const DetectionItem& item = ds.items[idx[n]];
    const bool flip = o.flip && rng.bernoulli(0.5f);
    const int w = item.image.width;
    copy_into_batch(item.image, flip, b.images, n);
    std::vector<Box> p = props[idx[n]], g = item.boxes;
    if (flip) {
      for (Box& q : p) q = hflip_box(q, float(w));
      for (Box& q : g) q = hflip_box(q, float(w));
    }
    RoiSample s = sample_rois(p, g, item.labels, sc, rcnn_box_coder(), rng);
    for (size_t i = 0; i < s.rois.size(); ++i) {
      rois.insert(rois.end(), {float(n), s.rois[i].x1, s.rois[i].y1, s.rois[i].x2, s.rois[i].y2});
      b.labels.push_back(s.labels[i]);
      b.targets.push_back(s.targets[i]);
    }
  }
  const int64_t R = static_cast<int64_t>(b.labels.size());
  b.rois = Tensor({R, 5});
  std::copy(rois.begin(), rois.end(), b.rois.begin());
  return b;
}

FastRcnnLoss fast_rcnn_loss(const Var& scores, const Var& deltas, const std::vector<int>& labels,
                            const std::vector<BoxDelta>& targets, float lambda, float beta) {
  const int64_t R = static_cast<int64_t>(labels.size());
  check_shape(scores.dim() == 2 && scores.size(0) == R && deltas.dim() == 2 &&
                  deltas.size(0) == R && deltas.size(1) == 4 * (scores.size(1) - 1) &&
                  static_cast<int64_t>(targets.size()) == R && R > 0,
              "fast_rcnn_loss",
              fmt::format("scores {}, deltas {}, {} labels, {} targets", shape_str(scores.shape()),
                          shape_str(deltas.shape()), labels.size(), targets.size()));
  const int64_t D = deltas.size(1);
  Tensor lab({R});
  // The [u >= 1] indicator and the choice of class u's four columns as a 0/1 mask:
  // masked entries give smooth_l1(0, 0) = 0 and no gradient.
  Tensor mask({R, D}), tgt({R, D});
  for (int64_t i = 0; i < R; ++i) {
    lab[i] = static_cast<float>(labels[i]);
    const int u = labels[i];
    check_shape(u >= 0 && u < scores.size(1), "fast_rcnn_loss", fmt::format("label {} out of range", u));
    if (u == 0) continue;
    for (int k = 0; k < 4; ++k) {
      mask[i * D + 4 * (u - 1) + k] = 1.0f;
      tgt[i * D + 4 * (u - 1) + k] = targets[i][k];
    }
  }
  FastRcnnLoss L;
  L.classification = ag::cross_entropy(scores, lab);
  L.localization = ag::mul(ag::smooth_l1(ag::mul(deltas, Var(mask)), tgt, beta, ag::Reduction::Sum),
                           1.0f / static_cast<float>(R));
  L.total = ag::add(L.classification, ag::mul(L.localization, lambda));
  return L;
}

}  // namespace dl::models
