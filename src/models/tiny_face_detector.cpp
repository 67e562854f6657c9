#include "models/tiny_face_detector.h"

#include <algorithm>
#include <cmath>

#include "detection/nms.h"
#include "image/tf_resize.h"
#include "nn/tf_padding.h"
#include "util/timing.h"

namespace dl::models {

namespace {

constexpr int kChannels[] = {3, 16, 32, 64, 128, 256, 512};
constexpr int kBoxValues = 5;  // tx, ty, tw, th, objectness (one class: no class scores)

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

TinyFaceDetector::TinyFaceDetector() {
  // The imported file's names (bin/import_tfjs: face-api's names with '/' -> '.').
  conv0_w_ = register_parameter("conv0.filters", Tensor({16, 3, 3, 3}));
  conv0_b_ = register_parameter("conv0.bias", Tensor({16}));
  for (int i = 1; i <= 5; ++i) {
    const std::string p = "conv" + std::to_string(i) + ".";
    SepConv& s = sep_[i - 1];
    s.depthwise = register_parameter(p + "depthwise_filter", Tensor({kChannels[i], 1, 3, 3}));
    s.pointwise = register_parameter(p + "pointwise_filter", Tensor({kChannels[i + 1], kChannels[i], 1, 1}));
    s.bias = register_parameter(p + "bias", Tensor({kChannels[i + 1]}));
  }
  conv8_w_ = register_parameter("conv8.filters", Tensor({25, 512, 1, 1}));
  conv8_b_ = register_parameter("conv8.bias", Tensor({25}));
}

// face-api's depthwiseSeparableConv: pad 1, depthwise 3x3, pointwise 1x1, bias, leaky.
Var TinyFaceDetector::sep_conv(const Var& x, const SepConv& s) {
  ag::Conv2dOptions dw;
  dw.pad_h = dw.pad_w = 1;
  dw.groups = static_cast<int>(x.value().size(1));
  Var y = ag::conv2d(x, s.depthwise, Var(), dw);
  return ag::leaky_relu(ag::conv2d(y, s.pointwise, s.bias), 0.1f);
}

Var TinyFaceDetector::forward(const Var& x) {
  Var y = ag::leaky_relu(ag::conv2d(x, conv0_w_, conv0_b_), 0.1f);  // "valid": 416 -> 414
  y = nn::max_pool2d_same(y, 2, 2);
  for (int i = 0; i < 5; ++i) y = nn::max_pool2d_same(sep_conv(y, sep_[i]), 2, i < 4 ? 2 : 1);
  return ag::conv2d(y, conv8_w_, conv8_b_);
}

Tensor tiny_face_input(const Image& img, int size) {
  Tensor t = tf_square_resize(img, size);
  const int64_t plane = static_cast<int64_t>(size) * size;
  for (int c = 0; c < 3; ++c)
    for (int64_t i = 0; i < plane; ++i)
      t[c * plane + i] = (t[c * plane + i] - TinyFaceDetector::kMeanRgb[c]) / 255.0f;
  return t;
}

std::vector<TinyFaceCandidate> decode_tiny_face(const Tensor& out, int image_w, int image_h,
                                                int input_size, float score_threshold) {
  const int64_t cells = out.size(2);
  const int anchors = static_cast<int>(TinyFaceDetector::kAnchors.size());
  check_shape(out.dim() == 4 && out.size(1) == anchors * kBoxValues && out.size(3) == cells,
              "decode_tiny_face", "expects [1, 25, G, G], got " + out.shape_str());
  // face-api's extractBoxes: boxes relative to the resized image (not the padded
  // square), whose sides are rounded to whole pixels.
  const ResizedSides sides = tf_resized_sides(image_w, image_h, input_size);
  const double corr_x = input_size / sides.width, corr_y = input_size / sides.height;
  auto at = [&](int a, int v, int64_t row, int64_t col) {
    return static_cast<double>(out[((a * kBoxValues + v) * cells + row) * cells + col]);
  };
  std::vector<TinyFaceCandidate> found;
  for (int64_t row = 0; row < cells; ++row)
    for (int64_t col = 0; col < cells; ++col)
      for (int a = 0; a < anchors; ++a) {
        const double score = sigmoid(at(a, 4, row, col));
        if (!(score > score_threshold)) continue;
        const double cx = (col + sigmoid(at(a, 0, row, col))) / cells * corr_x;
        const double cy = (row + sigmoid(at(a, 1, row, col))) / cells * corr_y;
        const double w = std::exp(at(a, 2, row, col)) * TinyFaceDetector::kAnchors[a][0] / cells * corr_x;
        const double h = std::exp(at(a, 3, row, col)) * TinyFaceDetector::kAnchors[a][1] / cells * corr_y;
        const double x = cx - w / 2, y = cy - h / 2;
        TinyFaceCandidate c;
        c.row = static_cast<int>(row);
        c.col = static_cast<int>(col);
        c.anchor = a;
        c.score = static_cast<float>(score);
        c.box = {static_cast<float>(x * image_w), static_cast<float>(y * image_h),
                 static_cast<float>((x + w) * image_w), static_cast<float>((y + h) * image_h)};
        found.push_back(c);
      }
  return found;
}

std::vector<Detection> TinyFaceDetector::detect(const Image& img, const TinyFaceDetectorOptions& o,
                                                TinyFaceStageTimes* times,
                                                std::vector<TinyFaceCandidate>* above_threshold) {
  TinyFaceStageTimes local;
  TinyFaceStageTimes& t = times ? *times : local;
  check_shape(o.input_size >= 32 && o.input_size % 32 == 0, "TinyFaceDetector::detect",
              "input size must be a positive multiple of 32");
  Tensor input;
  {
    ScopedTimer st(t.preprocess);
    input = tiny_face_input(img, o.input_size);
  }
  Tensor out;
  {
    ScopedTimer st(t.network);
    NoGradGuard ng;
    out = forward(Var(input)).value();
  }
  ScopedTimer st(t.decode);
  std::vector<TinyFaceCandidate> cand =
      decode_tiny_face(out, img.width, img.height, o.input_size, o.score_threshold);
  std::vector<Box> boxes;
  std::vector<float> scores;
  for (const TinyFaceCandidate& c : cand) {
    boxes.push_back(c.box);
    scores.push_back(c.score);
  }
  std::vector<Detection> dets;
  for (int k : nms(boxes, scores, o.iou_threshold)) dets.push_back({boxes[k], 0, scores[k], {}, {}});
  if (above_threshold) *above_threshold = std::move(cand);
  return dets;
}

}  // namespace dl::models
