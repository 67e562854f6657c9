#include "models/yolo.h"

#include <algorithm>
#include <cmath>

#include "detection/postprocess.h"
#include "image/transforms.h"
#include "models/detection_batch.h"  // copy_into_batch
#include "util/timing.h"

namespace dl::models {

// Ranges: what the program can train (--grid 1..32, --boxes 1..8, --width, --hidden).
nn::ConfigFields YoloConfig::fields() {
  nn::ConfigFields f("yolo", "a yolo model");
  backbone_fields(f, c1, c2);
  f.field("width", width, 1, 4096);
  f.field("grid", grid, 1, 64);
  f.field("boxes", boxes, 1, 16);
  f.field("num_classes", num_classes, 1, 10000);
  f.field("input_size", input_size, 16, 1024).step(16);
  f.field("head", head, {"conv", "fc"});
  f.field("hidden", hidden, 1, 65536);
  f.field("dropout", dropout, 0.0f, 0.99f);
  f.constant("stride", kBackboneStride);
  return f;
}

YoloConfig YoloConfig::from_json(const std::string& text) {
  YoloConfig c = nn::config_from_json<YoloConfig>(text);
  if (c.grid > c.input_size / kBackboneStride)
    nn::refuse_config("grid", std::to_string(c.grid),
                      "at most input_size / 4 = " + std::to_string(c.input_size / kBackboneStride));
  return c;
}

int YoloConfig::neck_poolings() const {
  int side = input_size / kBackboneStride, p = 0;
  while (side / 2 >= grid) side /= 2, ++p;
  return p;
}

// ---- the network ------------------------------------------------------------------------
Yolo::Yolo(const YoloConfig& cfg, Rng& rng) : config(cfg) {
  check_shape(cfg.grid >= 1 && cfg.grid <= cfg.input_size / kBackboneStride, "Yolo",
              "grid must be 1..input_size / 4");
  backbone = make_backbone(3, cfg.c1, cfg.c2, rng);
  neck = std::make_shared<Sequential>();
  int in = cfg.c2, out = cfg.width;
  auto conv_bn_leaky = [&](int cin, int cout) {
    neck->add(std::make_shared<Conv2d>(cin, cout, 3, 1, 1, rng, false));
    neck->add(std::make_shared<BatchNorm2d>(cout));
    neck->add(std::make_shared<LeakyReLU>(0.1f));  // §2: "leaky rectified linear activation"
  };
  for (int p = 0; p < cfg.neck_poolings(); ++p, in = out, out *= 2) {
    neck->add(std::make_shared<MaxPool2d>(2));
    conv_bn_leaky(in, out);
  }
  conv_bn_leaky(in, in);
  register_module("backbone", backbone);
  register_module("neck", neck);
  const int S = cfg.grid, D = cfg.depth();
  // The last layer starts small (N(0, 0.01), zero bias), so the first predictions are
  // near 0 and the first loss is the targets' own sum of squares, not a random one.
  if (cfg.head == "fc") {
    fc1 = std::make_shared<Linear>(in * S * S, cfg.hidden, rng);
    drop = std::make_shared<Dropout>(cfg.dropout, rng.next_u64());
    fc2 = std::make_shared<Linear>(cfg.hidden, S * S * D, rng);
    for (float& w : fc2->weight.value()) w = rng.normal(0.0f, 0.01f);
    register_module("fc1", fc1);
    register_module("drop", drop);
    register_module("fc2", fc2);
  } else {  // the same two layers, applied to every cell alone: 1 x 1 convolutions
    head_hidden = std::make_shared<Conv2d>(in, cfg.hidden, 1, 1, 0, rng);
    head = std::make_shared<Conv2d>(cfg.hidden, D, 1, 1, 0, rng);
    for (float& w : head->weight.value()) w = rng.normal(0.0f, 0.01f);
    register_module("head_hidden", head_hidden);
    register_module("head", head);
  }
}

Var Yolo::features(const Var& images) {
  check_shape(images.dim() == 4 && images.size(1) == 3, "Yolo",
              "expected [N, 3, H, W] images, got " + shape_str(images.shape()));
  return (*backbone)(images);
}

Var Yolo::head_forward(const Var& feat) {
  const int S = config.grid, D = config.depth();
  Var h = (*neck)(feat);
  if (h.size(2) != S || h.size(3) != S) h = ag::adaptive_avg_pool2d(h, S, S);
  const int64_t N = h.size(0);
  if (config.head == "fc") {
    h = (*drop)(ag::leaky_relu((*fc1)(ag::flatten(h, 1)), 0.1f));
    return ag::reshape((*fc2)(h), {N, S, S, D});  // the paper reshapes its last FC layer
  }
  h = ag::leaky_relu((*head_hidden)(h), 0.1f);
  return ag::permute((*head)(h), {0, 2, 3, 1});  // [N, D, S, S] -> [N, S, S, D]
}

Tensor Yolo::preprocess(const Image& img) const {
  return backbone_input_resized(img, config.input_size);
}

Tensor Yolo::predict(const Image& img, YoloStageTimes* t) {
  NoGradGuard no_grad;
  YoloStageTimes local;
  YoloStageTimes& st = t ? *t : local;
  const int s = config.input_size;
  Var feat;
  {
    ScopedTimer timer(st.backbone);
    feat = features(Var(preprocess(img).reshape({1, 3, s, s})));
  }
  ScopedTimer timer(st.head);
  return head_forward(feat).value();
}

std::vector<Detection> Yolo::detect(const Image& img, const YoloDetectOptions& o,
                                    YoloStageTimes* t) {
  YoloStageTimes local;
  YoloStageTimes& st = t ? *t : local;
  const Tensor out = predict(img, &st);
  ScopedTimer timer(st.decode);
  return decode_yolo_output(out.data(), config, img.width, img.height, o);
}

// ---- boxes and targets ------------------------------------------------------------------
YoloBox decode_yolo_box(const float* out, const YoloConfig& cfg, int row, int col, int b,
                        int width, int height) {
  const int S = cfg.grid;
  const float* p = out + (static_cast<int64_t>(row) * S + col) * cfg.depth() + 5 * b;
  const float cx = (float(col) + p[0]) / float(S) * float(width);
  const float cy = (float(row) + p[1]) / float(S) * float(height);
  const float w = p[2] * p[2] * float(width), h = p[3] * p[3] * float(height);
  return {{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2}, p[4]};
}

std::vector<YoloTarget> yolo_targets(const Tensor& out, const std::vector<std::vector<Box>>& boxes,
                                     const std::vector<std::vector<int>>& labels,
                                     const YoloConfig& cfg, int width, int height) {
  const int S = cfg.grid, B = cfg.boxes, D = cfg.depth();
  const int64_t N = static_cast<int64_t>(boxes.size());
  check_shape(out.dim() == 4 && out.size(0) == N && out.size(1) == S && out.size(2) == S &&
                  out.size(3) == D && labels.size() == boxes.size(),
              "yolo_targets", "output [N, S, S, 5B + C] and ground truth of N images");
  std::vector<YoloTarget> targets;
  for (int64_t n = 0; n < N; ++n) {
    // 1. each object to the cell holding its centre; one object per cell (the larger)
    std::vector<int> owner(static_cast<size_t>(S) * S, -1);
    for (size_t k = 0; k < boxes[n].size(); ++k) {
      const Box& g = boxes[n][k];
      const int col = std::clamp(int(std::floor(g.cx() / float(width) * float(S))), 0, S - 1);
      const int row = std::clamp(int(std::floor(g.cy() / float(height) * float(S))), 0, S - 1);
      int& o = owner[static_cast<size_t>(row) * S + col];
      if (o < 0 || box_area(g) > box_area(boxes[n][o])) o = static_cast<int>(k);
    }
    const float* img_out = out.data() + n * S * S * D;
    for (int row = 0; row < S; ++row)
      for (int col = 0; col < S; ++col) {
        const int k = owner[static_cast<size_t>(row) * S + col];
        if (k < 0) continue;
        const Box& g = boxes[n][k];
        YoloTarget t;
        t.image = static_cast<int>(n);
        t.row = row;
        t.col = col;
        t.object = k;
        t.cls = labels[n][k];
        // 2. what the responsible predictor should output: the centre within the cell,
        //    the square roots of the size relative to the image
        t.x = g.cx() / float(width) * float(S) - float(col);
        t.y = g.cy() / float(height) * float(S) - float(row);
        t.sqrt_w = std::sqrt(g.width() / float(width));
        t.sqrt_h = std::sqrt(g.height() / float(height));
        // 3. the responsible predictor: highest IoU with the truth; if none overlaps,
        //    the closest in (x, y, sqrt w, sqrt h)
        float best_iou = 0, best_dist = 0;
        int best = -1;
        for (int b = 0; b < B; ++b) {
          const float iou = box_iou(decode_yolo_box(img_out, cfg, row, col, b, width, height).box, g);
          if (iou > best_iou) best_iou = iou, best = b;
        }
        if (best < 0) {
          for (int b = 0; b < B; ++b) {
            const float* p = img_out + (static_cast<int64_t>(row) * S + col) * D + 5 * b;
            const float d = (p[0] - t.x) * (p[0] - t.x) + (p[1] - t.y) * (p[1] - t.y) +
                            (p[2] - t.sqrt_w) * (p[2] - t.sqrt_w) +
                            (p[3] - t.sqrt_h) * (p[3] - t.sqrt_h);
            if (best < 0 || d < best_dist) best_dist = d, best = b;
          }
        }
        t.predictor = best;
        t.iou = best_iou;
        targets.push_back(t);
      }
  }
  return targets;
}

// ---- the loss (eq. 3) -----------------------------------------------------------------
YoloLoss yolo_loss(const Var& out, const std::vector<YoloTarget>& targets, const YoloConfig& cfg,
                   const YoloLossOptions& o) {
  const int S = cfg.grid, B = cfg.boxes, D = cfg.depth();
  check_shape(out.dim() == 4 && out.size(1) == S && out.size(2) == S && out.size(3) == D,
              "yolo_loss", "output must be [N, S, S, 5B + C], got " + shape_str(out.shape()));
  const int64_t N = out.size(0);
  // The targets as a tensor shaped like the output, and one 0/1 mask per term of eq. 3
  // (the indicators 1obj_ij, 1noobj_ij, 1obj_i).
  Tensor target(out.shape()), xy(out.shape()), wh(out.shape()), obj(out.shape()),
      noobj(out.shape()), cls(out.shape());
  for (int64_t n = 0; n < N; ++n)  // every predictor starts as "no object", target C^ = 0
    for (int64_t cell = 0; cell < S * S; ++cell)
      for (int b = 0; b < B; ++b) noobj[(n * S * S + cell) * D + 5 * b + 4] = 1;
  for (const YoloTarget& t : targets) {
    check_shape(t.image >= 0 && t.image < N && t.predictor >= 0 && t.predictor < B && t.cls >= 0 &&
                    t.cls < cfg.num_classes,
                "yolo_loss", "a target outside the output");
    const int64_t at = ((int64_t(t.image) * S + t.row) * S + t.col) * D, p = at + 5 * t.predictor;
    target[p + 0] = t.x;
    target[p + 1] = t.y;
    target[p + 2] = t.sqrt_w;
    target[p + 3] = t.sqrt_h;
    target[p + 4] = t.iou;
    xy[p + 0] = xy[p + 1] = 1;
    wh[p + 2] = wh[p + 3] = 1;
    obj[p + 4] = 1;
    noobj[p + 4] = 0;
    for (int c = 0; c < cfg.num_classes; ++c) cls[at + 5 * B + c] = 1;
    target[at + 5 * B + t.cls] = 1;
  }
  const Var sq = ag::pow(ag::sub(out, Var(target)), 2.0f);  // (prediction - target)^2
  const float per_image = 1.0f / float(std::max<int64_t>(1, N));
  auto term = [&](const Tensor& mask, float lambda) {
    return ag::mul(ag::sum_all(ag::mul(sq, Var(mask))), lambda * per_image);
  };
  YoloLoss L;
  L.xy = term(xy, o.lambda_coord);
  L.wh = term(wh, o.lambda_coord);
  L.object = term(obj, 1.0f);
  L.no_object = term(noobj, o.lambda_noobj);
  L.classification = term(cls, 1.0f);
  L.total = ag::add(ag::add(ag::add(L.xy, L.wh), ag::add(L.object, L.no_object)), L.classification);
  return L;
}

YoloBatch make_yolo_batch(const DetectionDataset& ds, const std::vector<int64_t>& idx,
                          const YoloConfig& cfg, bool flip, float jitter, Rng& rng) {
  const int s = cfg.input_size;
  YoloBatch b;
  b.images = Tensor({static_cast<int64_t>(idx.size()), 3, s, s});
  for (size_t n = 0; n < idx.size(); ++n) {
    const DetectionItem& item = ds.items[idx[n]];
    const float W = float(item.image.width), H = float(item.image.height);
    const bool mirror = flip && rng.bernoulli(0.5f);
    // §2.2: "random scaling and translations of up to 20% of the original image size":
    // the region of the image that becomes the input, zoom z (> 1 enlarges), shift (dx, dy)
    float z = 1, dx = 0, dy = 0;
    if (jitter > 0) {
      z = 1.0f + rng.uniform(-jitter, jitter);
      dx = rng.uniform(-jitter, jitter) * W;
      dy = rng.uniform(-jitter, jitter) * H;
    }
    const float x0 = (W - W / z) / 2 + dx, y0 = (H - H / z) / 2 + dy;
    const float sx = float(s) / (W / z), sy = float(s) / (H / z);
    Image input;
    if (jitter > 0)
      input = warp_region(item.image, x0, y0, x0 + W / z, y0 + H / z, s, s, image_mean(item.image));
    const bool same = item.image.width == s && item.image.height == s;
    copy_into_batch(jitter > 0 ? input : same ? item.image : resize_bilinear(item.image, s, s),
                    mirror, b.images, static_cast<int64_t>(n));
    std::vector<Box> boxes;
    std::vector<int> labels;
    for (size_t k = 0; k < item.boxes.size(); ++k) {
      const Box& g = item.boxes[k];
      const Box moved{(g.x1 - x0) * sx, (g.y1 - y0) * sy, (g.x2 - x0) * sx, (g.y2 - y0) * sy};
      const Box r = clip_box(moved, float(s), float(s));
      // an object pushed mostly out of the picture is no longer a target
      if (r.width() < 2 || r.height() < 2 || box_area(r) < 0.25f * box_area(moved)) continue;
      boxes.push_back(mirror ? hflip_box(r, float(s)) : r);
      labels.push_back(item.labels[k]);
    }
    b.boxes.push_back(std::move(boxes));
    b.labels.push_back(std::move(labels));
  }
  return b;
}

// ---- inference --------------------------------------------------------------------------
std::vector<Detection> decode_yolo_output(const float* out, const YoloConfig& cfg, int width,
                                          int height, const YoloDetectOptions& o) {
  const int S = cfg.grid, B = cfg.boxes, C = cfg.num_classes, D = cfg.depth();
  const int64_t P = static_cast<int64_t>(S) * S * B;
  Tensor scores({P, C}), boxes({P, 4});
  for (int row = 0; row < S; ++row)
    for (int col = 0; col < S; ++col) {
      const float* probs = out + (static_cast<int64_t>(row) * S + col) * D + 5 * B;
      for (int b = 0; b < B; ++b) {
        const int64_t i = (static_cast<int64_t>(row) * S + col) * B + b;
        const YoloBox yb = decode_yolo_box(out, cfg, row, col, b, width, height);
        // §2: Pr(class_i | object) * Pr(object) * IoU = the class-specific confidence.
        // The outputs are linear, so a slightly negative one is read as 0 (two negatives
        // must not multiply into a confident detection).
        const float conf = std::max(0.0f, yb.confidence);
        for (int c = 0; c < C; ++c) scores[i * C + c] = std::max(0.0f, probs[c]) * conf;
        boxes[i * 4 + 0] = yb.box.x1;
        boxes[i * 4 + 1] = yb.box.y1;
        boxes[i * 4 + 2] = yb.box.x2;
        boxes[i * 4 + 3] = yb.box.y2;
      }
    }
  PostprocessOptions po;
  po.score_threshold = o.threshold;
  po.nms_iou = o.nms;
  po.max_detections = o.max_detections;
  po.drop_empty = true;
  return postprocess_detections(scores, 0, boxes, width, height, po);
}

}  // namespace dl::models
