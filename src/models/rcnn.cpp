#include "models/rcnn.h"

#include <fmt/core.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "image/transforms.h"
#include "util/timing.h"

namespace dl::models {

// feature_scale is 20 / the features' mean norm (norm20_scale): any positive float.
nn::ConfigFields RcnnConfig::fields() {
  nn::ConfigFields f("rcnn", "an rcnn model");
  f.nested("cnn", cnn.fields());
  f.field("context", context, 0, 511);  // and below half the crop: from_json checks
  f.field("feature_scale", feature_scale, std::numeric_limits<float>::min(),
          std::numeric_limits<float>::max());
  return f;
}

RcnnConfig RcnnConfig::from_json(const std::string& text) {
  RcnnConfig c = nn::config_from_json<RcnnConfig>(text);
  if (c.context * 2 >= c.cnn.input_size)  // no room left for the box in the crop
    nn::refuse_config("context", std::to_string(c.context),
                      fmt::format("0..{} for a {}-pixel crop", (c.cnn.input_size - 1) / 2,
                                  c.cnn.input_size));
  return c;
}

RcnnModel::RcnnModel(const RcnnConfig& c, Rng& rng) : config(c) {
  cnn = std::make_shared<CropClassifier>(c.cnn, rng);
  register_module("cnn", cnn);
  const int K = c.classes(), D = c.feature_dim();
  head.svm_weight = register_buffer("svm_weight", Tensor({K, D}));
  head.svm_bias = register_buffer("svm_bias", Tensor({K}));
  head.bbox_weight = register_buffer("bbox_weight", Tensor({K, D + 1, 4}));
}

Tensor RcnnModel::features(const Tensor& crops) {
  NoGradGuard g;
  cnn->eval();
  Var h = (*cnn->neck)((*cnn->backbone)(Var(crops)));
  h = (*(*cnn->head)[1])((*(*cnn->head)[0])(h));  // conv "fc" + ReLU; dropout is off
  Tensor f = h.value().reshape({crops.size(0), config.feature_dim()});
  for (float& v : f) v *= config.feature_scale;
  return f;
}

namespace {

// Appendix A's dilate-then-warp of box b, as the network reads it ([3, S, S],
// optionally mirrored). `fill`: the image's mean colour, zero after R-CNN's mean
// subtraction.
Tensor warped_input(const Image& img, const Box& b, int S, int context,
                    const std::vector<uint8_t>& fill, bool flip = false) {
  return backbone_input(warp_box_with_context(img, b.x1, b.y1, b.x2, b.y2, S, context, fill),
                        flip);
}

}  // namespace

Tensor region_features(RcnnModel& m, const Image& img, const std::vector<Box>& boxes,
                       RcnnTimes* t, int batch) {
  const int S = m.config.cnn.input_size, D = m.config.feature_dim();
  const int64_t n = static_cast<int64_t>(boxes.size()), plane = 3LL * S * S;
  const std::vector<uint8_t> fill = image_mean(img);
  Tensor feats({n, D});
  for (int64_t s = 0; s < n; s += batch) {
    const int64_t k = std::min<int64_t>(batch, n - s);
    Tensor crops({k, 3, S, S});
    {
      ScopedTimer timer(t ? &t->warping : nullptr);
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < k; ++i) {
        const Tensor x = warped_input(img, boxes[s + i], S, m.config.context, fill);
        std::copy_n(x.data(), plane, crops.data() + i * plane);
      }
    }
    ScopedTimer timer(t ? &t->cnn : nullptr);
    const Tensor f = m.features(crops);
    std::copy_n(f.data(), k * D, feats.data() + s * D);
  }
  return feats;
}

WindowBatch warped_window_batch(const RcnnConfig& cfg, const DetectionDataset& ds,
                                const Labelled& w, int fg, int bg, Rng rng) {
  const int n = fg + bg, S = cfg.cnn.input_size;
  const int64_t plane = 3LL * S * S;
  WindowBatch b{Tensor({n, 3, S, S}), Tensor({n})};
  const std::vector<const Window*> pick = draw_windows(w, fg, bg, rng);
  std::vector<char> flip(n);
  for (int i = 0; i < n; ++i) flip[i] = rng.bernoulli(0.5f);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    const Window& win = *pick[i];
    const Image& img = ds.items[win.item].image;
    const Tensor x = warped_input(img, win.box, S, cfg.context, image_mean(img), flip[i]);
    std::copy_n(x.data(), plane, b.inputs.data() + i * plane);
    b.labels[i] = static_cast<float>(win.label);
  }
  return b;
}

std::vector<Detection> detect(RcnnModel& m, const Image& img, const std::vector<Box>& proposals,
                              const RegionDetectOptions& o, RcnnTimes* t) {
  const Tensor f = region_features(m, img, proposals, t);
  return detect_regions(f, proposals, m.head, img.width, img.height, o, t ? &t->head : nullptr);
}

}  // namespace dl::models
