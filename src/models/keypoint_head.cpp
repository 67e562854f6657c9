#include "models/keypoint_head.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "detection/roi_align.h"
#include "models/backbone.h"

namespace dl::models {

nn::ConfigFields KeypointHeadConfig::fields() {
  nn::ConfigFields f("keypoint_head", "a keypoint_rcnn model");
  f.field("joints", joints, 1, 1000);
  f.field("channels", channels, 1, 4096);
  f.field("convs", convs, 0, 16);
  f.field("pool", pool, 1, 64);
  return f;
}

KeypointHead::KeypointHead(int in_channels, const KeypointHeadConfig& cfg, Rng& rng) : config(cfg) {
  int c = in_channels;
  for (int i = 0; i < cfg.convs; ++i) {
    fcn.push_back(std::make_shared<nn::Conv2d>(c, cfg.channels, 3, 1, 1, rng));
    register_module(fmt::format("kp_fcn{}", i + 1), fcn.back());
    c = cfg.channels;
  }
  // torchvision's KeypointRCNNPredictor: kernel 4, stride 2, padding 1 doubles the side
  // exactly ((n - 1) * 2 - 2 + 4 = 2n) and goes straight to the K heatmaps.
  deconv = std::make_shared<ConvTranspose2d>(c, cfg.joints, 4, 2, rng);
  deconv->options.pad_h = deconv->options.pad_w = 1;
  register_module("kps_score_lowres", deconv);
}

Var KeypointHead::pool_rois(const Var& features, const Tensor& rois) {
  return ag::roi_align(features, rois, config.pool, config.pool, 1.0f / kBackboneStride,
                       kMaskSamplingRatio);
}

Var KeypointHead::forward(const Var& pooled) {
  Var h = pooled;
  for (auto& conv : fcn) h = ag::relu((*conv)(h));
  const Var low = (*deconv)(h);
  // §5: "a relatively high resolution output (compared to masks) is required for
  // keypoint-level localization accuracy" -- the paper's 2x bilinear up-sampling to 56 x 56.
  return ag::upsample_bilinear2d(low, static_cast<int>(low.size(2)) * 2,
                                 static_cast<int>(low.size(3)) * 2, false);
}

KeypointTargets keypoint_targets(const std::vector<std::vector<float>>& keypoints,
                                 const std::vector<Box>& rois, int m) {
  check_shape(keypoints.size() == rois.size(), "keypoint_targets",
              fmt::format("{} keypoint sets, {} rois", keypoints.size(), rois.size()));
  KeypointTargets t;
  const size_t K = rois.empty() ? 0 : keypoints[0].size() / 3;
  for (size_t i = 0; i < rois.size(); ++i) {
    check_shape(keypoints[i].size() == 3 * K && K > 0, "keypoint_targets",
                fmt::format("{} values for roi {}, expected {}", keypoints[i].size(), i, 3 * K));
    const Box& r = rois[i];
    // float arithmetic in torchvision's order: scale = m / (x2 - x1), then (x - x1) * scale
    const float sx = static_cast<float>(m) / (r.x2 - r.x1), sy = static_cast<float>(m) / (r.y2 - r.y1);
    for (size_t k = 0; k < K; ++k) {
      const float kx = keypoints[i][3 * k], ky = keypoints[i][3 * k + 1], v = keypoints[i][3 * k + 2];
      int64_t x = static_cast<int64_t>(std::floor((kx - r.x1) * sx));
      int64_t y = static_cast<int64_t>(std::floor((ky - r.y1) * sy));
      if (kx == r.x2) x = m - 1;  // a joint on the box's far edge belongs to its last cell
      if (ky == r.y2) y = m - 1;
      const bool ok = x >= 0 && y >= 0 && x < m && y < m && v > 0;
      t.valid.push_back(ok ? 1 : 0);
      t.index.push_back(ok ? static_cast<int>(y * m + x) : 0);
    }
  }
  return t;
}

Var keypoint_loss(const Var& logits, const KeypointTargets& t) {
  check_shape(logits.dim() == 4 && logits.size(2) == logits.size(3), "keypoint_loss",
              fmt::format("logits {}, expected [R, K, m, m]", shape_str(logits.shape())));
  const int64_t RK = logits.size(0) * logits.size(1), MM = logits.size(2) * logits.size(3);
  check_shape(static_cast<int64_t>(t.valid.size()) == RK && t.index.size() == t.valid.size(),
              "keypoint_loss",
              fmt::format("{} targets for logits {}", t.valid.size(), shape_str(logits.shape())));
  std::vector<float> rows, cells;
  for (int64_t i = 0; i < RK; ++i)
    if (t.valid[i]) {
      rows.push_back(static_cast<float>(i));
      cells.push_back(static_cast<float>(t.index[i]));
    }
  if (rows.empty()) return ag::mul(ag::sum_all(logits), 0.0f);
  const int64_t V = static_cast<int64_t>(rows.size());
  const Var picked = ag::index_select(ag::reshape(logits, {RK, MM}), 0, Tensor({V}, rows));
  return ag::cross_entropy(picked, Tensor({V}, cells));
}

std::vector<float> resize_bicubic(const float* src, int h, int w, int out_h, int out_w) {
  // PyTorch (aten/native/UpSample.h): source index scale * (d + 0.5) - 0.5 with scale =
  // in / out, not clamped at 0 for cubic; Keys' kernel with A = -0.75 on the four taps
  // floor(s) - 1 .. floor(s) + 2, each clamped into the image.
  struct Taps {
    int idx[4];
    float w[4];
  };
  auto taps = [](int in, int out) {
    std::vector<Taps> t(out);
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    const float A = -0.75f;
    auto conv1 = [A](float x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };
    auto conv2 = [A](float x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };
    for (int d = 0; d < out; ++d) {
      const float s = scale * (static_cast<float>(d) + 0.5f) - 0.5f;
      const int i0 = std::min(static_cast<int>(std::floor(s)), in - 1);
      const float l = std::min(std::max(s - static_cast<float>(i0), 0.0f), 1.0f);
      t[d].w[0] = conv2(l + 1.0f);
      t[d].w[1] = conv1(l);
      t[d].w[2] = conv1(1.0f - l);
      t[d].w[3] = conv2(1.0f - l + 1.0f);
      for (int j = 0; j < 4; ++j) t[d].idx[j] = std::max(std::min(i0 - 1 + j, in - 1), 0);
    }
    return t;
  };
  const std::vector<Taps> ty = taps(h, out_h), tx = taps(w, out_w);
  std::vector<float> out(static_cast<size_t>(out_h) * out_w);
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      // PyTorch's order: along x within each of the four rows, then across the rows.
      float acc = 0;
      for (int i = 0; i < 4; ++i) {
        const float* row = src + static_cast<int64_t>(ty[y].idx[i]) * w;
        float r = row[tx[x].idx[0]] * tx[x].w[0];
        for (int j = 1; j < 4; ++j) r += row[tx[x].idx[j]] * tx[x].w[j];
        acc = i == 0 ? r * ty[y].w[0] : acc + r * ty[y].w[i];
      }
      out[static_cast<size_t>(y) * out_w + x] = acc;
    }
  return out;
}

HeatmapKeypoints heatmaps_to_keypoints(const Tensor& maps, const std::vector<Box>& rois) {
  const int64_t R = static_cast<int64_t>(rois.size());
  check_shape(maps.dim() == 4 && maps.size(0) == R, "heatmaps_to_keypoints",
              fmt::format("maps {}, {} rois", shape_str(maps.shape()), R));
  const int64_t K = maps.size(1);
  const int mh = static_cast<int>(maps.size(2)), mw = static_cast<int>(maps.size(3));
  HeatmapKeypoints out;
  out.xy.resize(R * K * 2);
  out.score.resize(R * K);
  for (int64_t i = 0; i < R; ++i) {
    const Box& r = rois[i];
    const float w = std::max(r.x2 - r.x1, 1.0f), h = std::max(r.y2 - r.y1, 1.0f);
    const int W = static_cast<int>(std::ceil(w)), H = static_cast<int>(std::ceil(h));
    // The ceil-sized map covers the box stretched by ceil(w) / w: undo it per pixel.
    const float wc = w / static_cast<float>(W), hc = h / static_cast<float>(H);
    for (int64_t k = 0; k < K; ++k) {
      const std::vector<float> roi_map =
          resize_bicubic(maps.data() + (i * K + k) * mh * mw, mh, mw, H, W);
      const int64_t best = std::max_element(roi_map.begin(), roi_map.end()) - roi_map.begin();
      const int64_t xi = best % W, yi = best / W;
      out.xy[(i * K + k) * 2] = (static_cast<float>(xi) + 0.5f) * wc + r.x1;
      out.xy[(i * K + k) * 2 + 1] = (static_cast<float>(yi) + 0.5f) * hc + r.y1;
      out.score[i * K + k] = roi_map[best];
    }
  }
  return out;
}

}  // namespace dl::models
