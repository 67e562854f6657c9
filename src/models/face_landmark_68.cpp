#include "models/face_landmark_68.h"

#include <algorithm>
#include <cmath>

#include "image/tf_resize.h"
#include "image/transforms.h"
#include "nn/tf_padding.h"

namespace dl::models {

namespace {

constexpr int kBlockWidth[4] = {32, 64, 128, 256};
constexpr float kMeanRgb[3] = {122.782f, 117.001f, 104.298f};

std::string conv(int block, int i) {
  return "dense" + std::to_string(block) + ".conv" + std::to_string(i) + ".";
}

}  // namespace

FaceLandmark68::FaceLandmark68() {
  register_parameter(conv(0, 0) + "filters", Tensor({32, 3, 3, 3}));
  register_parameter(conv(0, 0) + "bias", Tensor({32}));
  for (int b = 0; b < 4; ++b)
    for (int i = b == 0 ? 1 : 0; i < 4; ++i) {
      const int in = i == 0 ? kBlockWidth[b - 1] : kBlockWidth[b], out = kBlockWidth[b];
      register_parameter(conv(b, i) + "depthwise_filter", Tensor({in, 1, 3, 3}));
      register_parameter(conv(b, i) + "pointwise_filter", Tensor({out, in, 1, 1}));
      register_parameter(conv(b, i) + "bias", Tensor({out}));
    }
  register_parameter("fc.weights", Tensor({136, 256}));
  register_parameter("fc.bias", Tensor({136}));
}

Var FaceLandmark68::param(const std::string& name) const {
  for (const auto& [n, v] : named_parameters())
    if (n == name) return v;
  throw std::logic_error("FaceLandmark68: no parameter " + name);
}

// face-api's depthwiseSeparableConv (common/): depthwise 3x3 "same" with the stride,
// pointwise 1x1, bias; no activation (the dense block applies ReLU to the sums).
Var FaceLandmark68::sep(const Var& x, const std::string& p, int stride) const {
  const Var dw = nn::conv2d_same(x, param(p + "depthwise_filter"), Var(), stride,
                                 static_cast<int>(x.value().size(1)));
  return ag::conv2d(dw, param(p + "pointwise_filter"), param(p + "bias"));
}

Var FaceLandmark68::dense_block(const Var& x, int b) const {
  const Var out1 = ag::relu(b == 0 ? nn::conv2d_same(x, param(conv(0, 0) + "filters"),
                                                     param(conv(0, 0) + "bias"), 2)
                                   : sep(x, conv(b, 0), 2));
  const Var out2 = sep(out1, conv(b, 1), 1);
  const Var out3 = sep(ag::relu(ag::add(out1, out2)), conv(b, 2), 1);
  const Var out4 = sep(ag::relu(ag::add(out1, ag::add(out2, out3))), conv(b, 3), 1);
  return ag::relu(ag::add(out1, ag::add(out2, ag::add(out3, out4))));
}

Var FaceLandmark68::forward(const Var& x) {
  Var y = x;
  for (int b = 0; b < 4; ++b) y = dense_block(y, b);
  ag::Pool2dOptions pool;
  pool.kernel_h = pool.kernel_w = 7;
  pool.stride_h = pool.stride_w = 2;
  y = ag::avg_pool2d(y, pool);  // 7 x 7 -> 1 x 1
  return ag::linear(ag::reshape(y, {y.value().size(0), 256}), param("fc.weights"), param("fc.bias"));
}

std::array<int, 4> face_crop_rect(const Box& box, int image_w, int image_h) {
  const double x = std::max<double>(box.x1, 0), y = std::max<double>(box.y1, 0);
  const double w = std::min<double>(box.x2 - x, image_w - x);
  const double h = std::min<double>(box.y2 - y, image_h - y);
  return {static_cast<int>(std::floor(x)), static_cast<int>(std::floor(y)),
          static_cast<int>(std::floor(w)), static_cast<int>(std::floor(h))};
}

Tensor face_landmark_input(const Image& crop) {
  // Centred padding (face-api's padToSquare with isCenterImage): round(diff / 2) after,
  // the rest before.
  const int diff = std::abs(crop.width - crop.height);
  const int after = static_cast<int>(std::lround(diff * 0.5)), before = diff - after;
  const Image square = crop.width < crop.height ? pad(crop, before, 0, after, 0)
                                                : pad(crop, 0, before, 0, after);
  Tensor t = tf_square_resize(square, FaceLandmark68::kInputSize);
  const int64_t plane = static_cast<int64_t>(FaceLandmark68::kInputSize) * FaceLandmark68::kInputSize;
  for (int c = 0; c < 3; ++c)
    for (int64_t i = 0; i < plane; ++i) t[c * plane + i] = (t[c * plane + i] - kMeanRgb[c]) / 255.0f;
  return t;
}

std::vector<float> FaceLandmark68::landmarks(const Image& img, const Box& box, Tensor* raw) {
  const auto r = face_crop_rect(box, img.width, img.height);
  if (r[2] <= 0 || r[3] <= 0) return {};
  const Image face = crop(img, r[0], r[1], r[2], r[3]);
  Tensor out;
  {
    NoGradGuard ng;
    out = forward(Var(face_landmark_input(face))).value();
  }
  if (raw) *raw = out;
  // face-api's postProcess: out * 112 minus the padding, over the resized crop's sides
  // (not rounded), then times the crop's size and shifted by its corner.
  const double scale = static_cast<double>(kInputSize) / std::max(r[2], r[3]);
  const double w = r[2] * scale, h = r[3] * scale;
  const double pad_x = w < h ? std::fabs(w - h) / 2 : 0, pad_y = h < w ? std::fabs(w - h) / 2 : 0;
  std::vector<float> pts(2 * kPoints);
  for (int k = 0; k < kPoints; ++k) {
    const float rx = static_cast<float>((out[2 * k] * static_cast<float>(kInputSize) - static_cast<float>(pad_x)) /
                                        static_cast<float>(w));
    const float ry = static_cast<float>((out[2 * k + 1] * static_cast<float>(kInputSize) - static_cast<float>(pad_y)) /
                                        static_cast<float>(h));
    pts[2 * k] = static_cast<float>(rx * r[2] + r[0]);
    pts[2 * k + 1] = static_cast<float>(ry * r[3] + r[1]);
  }
  return pts;
}

}  // namespace dl::models
