#include "models/ssd.h"

#include <fmt/core.h>

#include <algorithm>

#include "detection/box_coder.h"
#include "detection/default_boxes.h"
#include "detection/hard_negative_mining.h"
#include "detection/matcher.h"
#include "detection/postprocess.h"
#include "nn/init.h"
#include "util/timing.h"

namespace dl::models {

// Ranges: what the program can train. Scales up to 2 (a box may be larger than the
// image; clipped to it); ratios 1.05..10 (1 is always there).
nn::ConfigFields SsdConfig::fields() {
  nn::ConfigFields f("ssd", "an ssd model");
  backbone_fields(f, c1, c2);
  f.field("channels", channels, 1, 4096);
  f.field("maps", maps, 1, 8);
  f.field("s_min", s_min, 0.01f, 2.0f);
  f.field("s_max", s_max, 0.01f, 2.0f);
  f.field("aspect_ratios", aspect_ratios, 1.05f, 10.0f).length(0, 8);
  f.field("num_classes", num_classes, 2, 10000);
  f.constant("stride", kBackboneStride);
  return f;
}

SsdConfig SsdConfig::from_json(const std::string& text) {
  SsdConfig c = nn::config_from_json<SsdConfig>(text);
  if (c.s_min > c.s_max)
    nn::refuse_config("s_min", fmt::format("{}", c.s_min), fmt::format("<= s_max ({})", c.s_max));
  return c;
}

namespace {

std::shared_ptr<Sequential> conv_bn_relu(std::shared_ptr<Sequential> s, int in, int out,
                                         int stride, Rng& rng) {
  s->add(std::make_shared<Conv2d>(in, out, 3, stride, 1, rng, false));
  s->add(std::make_shared<BatchNorm2d>(out));
  s->add(std::make_shared<ReLU>());
  return s;
}

}  // namespace

Ssd::Ssd(const SsdConfig& cfg, Rng& rng) : config(cfg) {
  if (!(cfg.s_min > 0) || cfg.s_min > cfg.s_max)
    throw std::invalid_argument("ssd: need 0 < s_min <= s_max");
  backbone = make_backbone(3, cfg.c1, cfg.c2, rng);
  neck = conv_bn_relu(std::make_shared<Sequential>(), cfg.c2, cfg.channels, 1, rng);
  register_module("backbone", backbone);
  register_module("neck", neck);
  for (int k = 1; k < cfg.maps; ++k) {
    auto e = conv_bn_relu(std::make_shared<Sequential>(), cfg.channels, cfg.channels, 2, rng);
    extras.push_back(conv_bn_relu(e, cfg.channels, cfg.channels, 1, rng));
    register_module("extras." + std::to_string(k - 1), extras.back());
  }
  const int A = cfg.boxes_per_cell();
  for (int k = 0; k < cfg.maps; ++k) {
    cls.push_back(std::make_shared<Conv2d>(cfg.channels, A * cfg.num_classes, 3, 1, 1, rng));
    box.push_back(std::make_shared<Conv2d>(cfg.channels, A * 4, 3, 1, 1, rng));
    // torchvision's SSD heads: Xavier-uniform weights, zero biases.
    for (Conv2d* c : {cls.back().get(), box.back().get()}) {
      nn::xavier_uniform_(c->weight.value(), rng);
      c->bias.value().fill(0.0f);
    }
  }
  for (int k = 0; k < cfg.maps; ++k) register_module("cls." + std::to_string(k), cls[k]);
  for (int k = 0; k < cfg.maps; ++k) register_module("box." + std::to_string(k), box[k]);
}

std::vector<Var> Ssd::feature_maps(const Var& images) {
  check_shape(images.dim() == 4 && images.size(1) == 3, "Ssd",
              "expected [N, 3, H, W] images, got " + shape_str(images.shape()));
  std::vector<Var> maps = {(*neck)((*backbone)(images))};
  for (auto& e : extras) maps.push_back((*e)(maps.back()));
  return maps;
}

SsdOutput Ssd::head(const std::vector<Var>& maps) {
  const int64_t A = config.boxes_per_cell(), C = config.num_classes;
  SsdOutput out;
  std::vector<Var> scores, deltas;
  for (size_t k = 0; k < maps.size(); ++k) {
    const int64_t N = maps[k].size(0), h = maps[k].size(2), w = maps[k].size(3);
    out.maps.push_back({static_cast<int>(h), static_cast<int>(w)});
    // [N, A * C, h, w] -> [N, h, w, A * C] -> [N, h w A, C]: channel a C + c is box a's
    // class c, the order of default_boxes.h (and torchvision's SSDScoringHead).
    scores.push_back(ag::reshape(ag::permute((*cls[k])(maps[k]), {0, 2, 3, 1}), {N, h * w * A, C}));
    deltas.push_back(ag::reshape(ag::permute((*box[k])(maps[k]), {0, 2, 3, 1}), {N, h * w * A, 4}));
  }
  out.scores = scores.size() == 1 ? scores[0] : ag::concat(scores, 1);
  out.deltas = deltas.size() == 1 ? deltas[0] : ag::concat(deltas, 1);
  return out;
}

std::vector<GridSize> Ssd::map_sizes(int image_h, int image_w) const {
  // Two 2 x 2 max-poolings (floor), then 3 x 3 convolutions of stride 2 and padding 1.
  std::vector<GridSize> maps = {{image_h / 2 / 2, image_w / 2 / 2}};
  for (int k = 1; k < config.maps; ++k)
    maps.push_back({(maps.back().height - 1) / 2 + 1, (maps.back().width - 1) / 2 + 1});
  return maps;
}

std::vector<Box> Ssd::default_boxes(const std::vector<GridSize>& maps, int image_h,
                                    int image_w) const {
  return dl::default_boxes(maps, ssd_scales(config.s_min, config.s_max, static_cast<int>(maps.size())),
                           config.aspect_ratios, image_h, image_w);
}

SsdTargets ssd_targets(const std::vector<Box>& dboxes, const std::vector<Box>& gt,
                       const std::vector<int>& gt_labels, float match_iou) {
  check_shape(gt.size() == gt_labels.size(), "ssd_targets", "one label per ground-truth box");
  const int G = static_cast<int>(gt.size()), D = static_cast<int>(dboxes.size());
  const std::vector<int> m = match_default_boxes(box_iou_matrix(gt, dboxes), G, D, match_iou);
  SsdTargets t;
  t.labels.assign(dboxes.size(), 0);
  for (int i = 0; i < D; ++i) {
    if (m[i] < 0) continue;
    t.labels[i] = gt_labels[m[i]] + 1;
    t.positives.push_back(i);
    t.offsets.push_back(encode_box(gt[m[i]], dboxes[i], rcnn_box_coder()));
  }
  return t;
}

SsdLoss ssd_loss(const Var& scores, const Var& deltas, const std::vector<SsdTargets>& targets,
                 float neg_pos_ratio, float alpha) {
  check_shape(scores.dim() == 3 && deltas.dim() == 3 && deltas.size(0) == scores.size(0) &&
                  deltas.size(1) == scores.size(1) && deltas.size(2) == 4 &&
                  static_cast<int64_t>(targets.size()) == scores.size(0),
              "ssd_loss",
              fmt::format("scores {}, deltas {}, {} images of targets", shape_str(scores.shape()),
                          shape_str(deltas.shape()), targets.size()));
  const int64_t N = scores.size(0), D = scores.size(1), C = scores.size(2);
  Tensor labels({N * D});
  std::vector<float> pos_index, offsets;
  for (int64_t n = 0; n < N; ++n) {
    const SsdTargets& t = targets[n];
    check_shape(static_cast<int64_t>(t.labels.size()) == D && t.offsets.size() == t.positives.size(),
                "ssd_loss", "one label per default box and one offset per positive");
    for (int64_t i = 0; i < D; ++i) labels[n * D + i] = static_cast<float>(t.labels[i]);
    for (size_t j = 0; j < t.positives.size(); ++j) {
      pos_index.push_back(static_cast<float>(n * D + t.positives[j]));
      offsets.insert(offsets.end(), t.offsets[j].begin(), t.offsets[j].end());
    }
  }
  // Every default box's confidence loss; then per image the hard negatives (§2.2),
  // chosen on these values, and a 0/1 mask of what enters L_conf.
  const Var ce = ag::cross_entropy(ag::reshape(scores, {N * D, C}), labels, Tensor(), -100,
                                   ag::Reduction::None);
  Tensor keep({N * D});
  SsdLoss L;
  for (int64_t n = 0; n < N; ++n) {
    const SsdTargets& t = targets[n];
    const std::vector<float> loss(ce.value().data() + n * D, ce.value().data() + (n + 1) * D);
    std::vector<bool> positive(D, false);
    for (int i : t.positives) positive[i] = true, keep[n * D + i] = 1.0f;
    for (int i : hard_negatives(loss, positive, neg_pos_ratio)) keep[n * D + i] = 1.0f, ++L.negatives;
    L.positives += static_cast<int64_t>(t.positives.size());
  }
  const float inv_n = 1.0f / static_cast<float>(std::max<int64_t>(1, L.positives));
  L.classification = ag::mul(ag::sum_all(ag::mul(ce, Var(keep))), inv_n);
  if (L.positives == 0) {
    L.localization = ag::mul(ag::sum_all(deltas), 0.0f);  // zero, still reaching the weights
  } else {
    const int64_t P = L.positives;
    Tensor index({P}, pos_index), target({P, 4}, offsets);
    L.localization = ag::mul(ag::smooth_l1(ag::index_select(ag::reshape(deltas, {N * D, 4}), 0, index),
                                           target, 1.0f, ag::Reduction::Sum),
                             inv_n);
  }
  L.total = ag::add(L.classification, ag::mul(L.localization, alpha));
  return L;
}

void keep_top_k_per_class(Tensor& probs, int top_k) {
  const int64_t D = probs.size(0), C = probs.size(1);
  if (top_k < 0 || top_k >= D) return;
  std::vector<int64_t> order(D);
  for (int64_t c = 1; c < C; ++c) {
    for (int64_t i = 0; i < D; ++i) order[i] = i;
    auto p = [&](int64_t i) { return probs[i * C + c]; };
    std::nth_element(order.begin(), order.begin() + top_k, order.end(), [&](int64_t a, int64_t b) {
      return p(a) > p(b) || (p(a) == p(b) && a < b);
    });
    for (int64_t r = top_k; r < D; ++r) probs[order[r] * C + c] = -1.0f;
  }
}

SsdLoss Ssd::losses(const Tensor& images, const std::vector<std::vector<Box>>& boxes,
                    const std::vector<std::vector<int>>& labels, const SsdTrainingOptions& o) {
  const SsdOutput out = predict(Var(images));
  // Default boxes on the padded batch, as torchvision places them.
  const std::vector<Box> dboxes =
      default_boxes(out.maps, static_cast<int>(images.size(2)), static_cast<int>(images.size(3)));
  std::vector<SsdTargets> targets;
  for (size_t n = 0; n < boxes.size(); ++n)
    targets.push_back(ssd_targets(dboxes, boxes[n], labels[n], o.match_iou));
  return ssd_loss(out.scores, out.deltas, targets, o.neg_pos_ratio, o.alpha);
}

std::vector<Detection> Ssd::detect(const Image& img, const SsdDetectOptions& o, SsdStageTimes* t) {
  NoGradGuard no_grad;
  SsdStageTimes local;
  SsdStageTimes& st = t ? *t : local;
  for (const GridSize& g : map_sizes(img.height, img.width))
    if (g.height < 1 || g.width < 1)
      throw std::invalid_argument("ssd: an image needs at least 4 x 4 pixels for a feature map");
  std::vector<Var> maps;
  {
    ScopedTimer timer(st.features);
    const Tensor x = backbone_input(img);
    maps = feature_maps(Var(x.reshape({1, 3, img.height, img.width})));
  }
  SsdOutput out;
  Tensor probs;
  {
    ScopedTimer timer(st.heads);
    out = head(maps);
    const int64_t D = out.scores.size(1);
    probs = softmax_rows(out.scores.value().reshape({D, config.num_classes}));
  }
  ScopedTimer timer(st.postprocess);
  keep_top_k_per_class(probs, o.top_k);
  const int64_t D = out.deltas.size(1);
  const Tensor boxes = decode_deltas(out.deltas.value().reshape({D, 4}),
                                     default_boxes(out.maps, img.height, img.width), rcnn_box_coder());
  PostprocessOptions po;
  po.score_threshold = o.threshold;
  po.nms_iou = o.nms;
  po.max_detections = o.max_detections;
  po.drop_empty = true;
  return postprocess_detections(probs, 1, boxes, img.width, img.height, po);
}

}  // namespace dl::models
