#include "models/spp_net.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/ops.h"
#include "detection/scale_choice.h"
#include "detection/spp_pool.h"
#include "image/transforms.h"
#include "util/timing.h"

namespace dl::models {

// Ranges: what the program can train (--hidden 1..4096, --levels 1..64, --target-size
// 1..4096); feature_scale is 20 / the features' mean norm (norm20_scale): any positive float.
nn::ConfigFields SppNetConfig::fields() {
  nn::ConfigFields f("spp_net", "an spp_net model");
  backbone_fields(f, c1, c2);
  f.field("levels", levels, 1, 64).length(1, 64);
  f.field("hidden", hidden, 1, 65536);
  f.field("num_classes", num_classes, 2, 10000);
  f.field("dropout", dropout, 0.0f, 0.99f);
  f.field("feature_scale", feature_scale, std::numeric_limits<float>::min(),
          std::numeric_limits<float>::max());
  f.constant("stride", kSppStride);
  // Older models are single-scale; check_scales also refuses a factor of 0 (from_json).
  f.field("scales", scales, 0.0f, kMaxScale).length(1, 16).optional();
  f.field("target_size", target_size, 1.0f, 4096.0f).optional();
  return f;
}

SppNetConfig SppNetConfig::from_json(const std::string& text) {
  SppNetConfig c = nn::config_from_json<SppNetConfig>(text);
  if (const std::string e = check_scales(c.scales); !e.empty())
    throw std::invalid_argument("bad model config: scales: " + e);
  return c;
}

std::string SppNetConfig::check_scales(const std::vector<float>& scales) {
  if (scales.empty() || scales.size() > 16) return "give 1 to 16 scale factors";
  for (float s : scales)
    if (!(s > 0 && s <= kMaxScale))
      return fmt::format("{} is not a scale factor in (0, {}]", s, kMaxScale);
  return "";
}

SppNet::SppNet(const SppNetConfig& c, Rng& rng) : config(c) {
  backbone = make_backbone(3, c.c1, c.c2, rng);
  fc6 = std::make_shared<Linear>(c.spp_dim(), c.hidden, rng);
  fc7 = std::make_shared<Linear>(c.hidden, c.hidden, rng);
  drop6 = std::make_shared<Dropout>(c.dropout, rng.next_u64());
  drop7 = std::make_shared<Dropout>(c.dropout, rng.next_u64());
  cls_score = std::make_shared<Linear>(c.hidden, c.num_classes, rng);
  register_module("backbone", backbone);
  register_module("fc6", fc6);
  register_module("fc7", fc7);
  register_module("drop6", drop6);
  register_module("drop7", drop7);
  register_module("cls_score", cls_score);
  const int K = c.classes(), D = c.hidden;
  head.svm_weight = register_buffer("svm_weight", Tensor({K, D}));
  head.svm_bias = register_buffer("svm_bias", Tensor({K}));
  head.bbox_weight = register_buffer("bbox_weight", Tensor({K, D + 1, 4}));
}

Tensor SppNet::conv_map(const Image& img) {
  NoGradGuard g;
  backbone->eval();
  const Tensor x = backbone_input(img);
  return (*backbone)(Var(x.reshape({1, 3, img.height, img.width}))).value();
}

Var SppNet::fc7_of(const Var& spp) {
  Var h = (*drop6)(ag::relu((*fc6)(spp)));
  return (*drop7)(ag::relu((*fc7)(h)));
}

std::vector<Var> SppNet::fc_parameters() const {
  std::vector<Var> p;
  for (const auto& m : {fc6, fc7, cls_score})
    for (const Var& v : m->parameters()) p.push_back(v);
  return p;
}

ConvPyramid conv_pyramid(SppNet& m, const Image& img, std::vector<double>* scale_seconds) {
  ConvPyramid p;
  const auto& scales = m.config.scales;
  if (scale_seconds) scale_seconds->resize(scales.size(), 0.0);
  for (size_t i = 0; i < scales.size(); ++i) {
    const auto t0 = Clock::now();
    if (scales[i] == 1.0f) {  // the image as it is: the single-scale path, unchanged
      p.maps.push_back(m.conv_map(img));
      p.sx.push_back(1.0f), p.sy.push_back(1.0f);
    } else {
      // At least one conv cell: the backbone's two 2x2 poolings need 4 pixels.
      const int w = std::max(4, static_cast<int>(std::lround(scales[i] * img.width)));
      const int h = std::max(4, static_cast<int>(std::lround(scales[i] * img.height)));
      p.maps.push_back(m.conv_map(resize_bilinear(img, w, h)));
      p.sx.push_back(static_cast<float>(w) / img.width);
      p.sy.push_back(static_cast<float>(h) / img.height);
    }
    if (scale_seconds) (*scale_seconds)[i] += seconds_since(t0);
  }
  return p;
}

std::vector<ConvPyramid> conv_pyramids(SppNet& m, const DetectionDataset& ds) {
  std::vector<ConvPyramid> maps(ds.items.size());
  for (size_t i = 0; i < ds.items.size(); ++i) maps[i] = conv_pyramid(m, ds.items[i].image);
  return maps;
}

Tensor spp_vectors(const SppNet& m, const ConvPyramid& p, const std::vector<Box>& boxes,
                   std::vector<int64_t>* windows_per_scale) {
  const int64_t n = static_cast<int64_t>(boxes.size()), P = m.config.spp_dim();
  const size_t S = p.maps.size();
  if (windows_per_scale) windows_per_scale->resize(S, 0);
  if (n == 0) return Tensor({0, P});
  auto pool = [&](size_t s, const std::vector<Box>& windows) {
    const Tensor& map = p.maps[s];
    const int h = static_cast<int>(map.size(2)), w = static_cast<int>(map.size(3));
    return spp_pool_forward(map, spp_rois(windows, 0, kSppStride, w, h), m.config.levels);
  };
  std::vector<std::vector<size_t>> group(S);  // window indices by chosen scale
  for (size_t k = 0; k < boxes.size(); ++k)
    group[choose_scale(boxes[k], m.config.scales, m.config.target_size)].push_back(k);
  Tensor out({n, P});
  for (size_t s = 0; s < S; ++s) {
    if (group[s].empty()) continue;
    if (windows_per_scale) (*windows_per_scale)[s] += static_cast<int64_t>(group[s].size());
    std::vector<Box> scaled;
    for (size_t k : group[s]) scaled.push_back(scale_box(boxes[k], p.sx[s], p.sy[s]));
    const Tensor v = pool(s, scaled);
    for (size_t j = 0; j < group[s].size(); ++j)
      std::copy_n(v.data() + int64_t(j) * P, P, out.data() + int64_t(group[s][j]) * P);
  }
  return out;
}

Tensor region_features(SppNet& m, const Image& img, const ConvPyramid* pyr_in,
                       const std::vector<Box>& boxes, SppNetTimes* t) {
  ConvPyramid pyr;
  {
    ScopedTimer timer(t ? &t->conv : nullptr);
    pyr = pyr_in ? *pyr_in : conv_pyramid(m, img, t ? &t->conv_scale : nullptr);
  }
  Tensor v;
  {
    ScopedTimer timer(t ? &t->spp : nullptr);
    v = spp_vectors(m, pyr, boxes, t ? &t->windows_scale : nullptr);
  }
  ScopedTimer timer(t ? &t->fc : nullptr);
  const int D = m.config.hidden;
  const int64_t n = static_cast<int64_t>(boxes.size());
  Tensor f({n, D});
  if (n > 0) {
    NoGradGuard g;
    m.eval();
    f = m.fc7_of(Var(v)).value().reshape({n, D});
    for (float& x : f) x *= m.config.feature_scale;
  }
  return f;
}

WindowBatch spp_window_batch(const SppNet& m, const std::vector<ConvPyramid>& maps,
                             const Labelled& w, int fg, int bg, Rng rng) {
  const int n = fg + bg, P = m.config.spp_dim();
  WindowBatch b{Tensor({n, P}), Tensor({n})};
  const std::vector<const Window*> pick = draw_windows(w, fg, bg, rng);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    const Tensor v = spp_vectors(m, maps[pick[i]->item], {pick[i]->box});
    std::copy_n(v.data(), P, b.inputs.data() + int64_t(i) * P);
    b.labels[i] = static_cast<float>(pick[i]->label);
  }
  return b;
}

std::vector<Detection> detect(SppNet& m, const Image& img, const std::vector<Box>& proposals,
                              const RegionDetectOptions& o, SppNetTimes* t) {
  const Tensor f = region_features(m, img, nullptr, proposals, t);
  return detect_regions(f, proposals, m.head, img.width, img.height, o, t ? &t->head : nullptr);
}

}  // namespace dl::models
