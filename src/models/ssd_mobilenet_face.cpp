#include "models/ssd_mobilenet_face.h"

#include <cmath>

#include "detection/nms.h"
#include "image/tf_resize.h"
#include "nn/checkpoint.h"
#include "nn/tf_padding.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::models {

namespace {

// MobileNetV1's widths (conv 0, then the 13 pairs' outputs) and depthwise strides.
constexpr int kWidth[14] = {32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024};
int depthwise_stride(int layer) { return layer == 2 || layer == 4 || layer == 6 || layer == 12 ? 2 : 1; }
// The extra layers: (in, out, kernel) of Prediction/Conv2d_0 .. 7.
constexpr int kExtra[8][3] = {{1024, 256, 1}, {256, 512, 3}, {512, 128, 1}, {128, 256, 3},
                              {256, 128, 1}, {128, 256, 3}, {256, 64, 1},  {64, 128, 3}};
// The box predictors: input channels and default boxes per cell.
constexpr int kPredIn[6] = {512, 1024, 512, 256, 256, 128};
constexpr int kPredBoxes[6] = {3, 6, 6, 6, 6, 6};
constexpr int kDefaultBoxes = 5118;
constexpr float kBatchNormEps = 0.001f;  // face-api's epsilon (TF's default)

std::string mb(int i, const char* kind) {
  return "MobilenetV1.Conv2d_" + std::to_string(i) + "_" + kind + ".";
}
std::string pred(int i, const char* kind) {
  return "Prediction.BoxPredictor_" + std::to_string(i) + "." + kind + ".";
}

}  // namespace

SsdMobilenetFace::SsdMobilenetFace() {
  register_parameter(mb(0, "pointwise") + "weights", Tensor({32, 3, 3, 3}));
  register_parameter(mb(0, "pointwise") + "convolution_bn_offset", Tensor({32}));
  for (int i = 1; i <= 13; ++i) {
    const int c = kWidth[i - 1];
    const std::string d = mb(i, "depthwise");
    register_parameter(d + "depthwise_weights", Tensor({c, 1, 3, 3}));
    for (const char* bn : {"gamma", "beta", "moving_mean", "moving_variance"})
      register_parameter(d + "BatchNorm." + bn, Tensor({c}));
    register_parameter(mb(i, "pointwise") + "weights", Tensor({kWidth[i], c, 1, 1}));
    register_parameter(mb(i, "pointwise") + "convolution_bn_offset", Tensor({kWidth[i]}));
  }
  for (int i = 0; i < 8; ++i) {
    const std::string p = "Prediction.Conv2d_" + std::to_string(i) + "_pointwise.";
    register_parameter(p + "weights", Tensor({kExtra[i][1], kExtra[i][0], kExtra[i][2], kExtra[i][2]}));
    register_parameter(p + "convolution_bn_offset", Tensor({kExtra[i][1]}));
  }
  for (int i = 0; i < 6; ++i) {
    register_parameter(pred(i, "BoxEncodingPredictor") + "weights", Tensor({4 * kPredBoxes[i], kPredIn[i], 1, 1}));
    register_parameter(pred(i, "BoxEncodingPredictor") + "biases", Tensor({4 * kPredBoxes[i]}));
    register_parameter(pred(i, "ClassPredictor") + "weights", Tensor({3 * kPredBoxes[i], kPredIn[i], 1, 1}));
    register_parameter(pred(i, "ClassPredictor") + "biases", Tensor({3 * kPredBoxes[i]}));
  }
  // The default boxes (ymin, xmin, ymax, xmax), stored by the TF graph as a constant.
  register_parameter("Output.extra_dim", Tensor({1, kDefaultBoxes, 4}));
}

Var SsdMobilenetFace::param(const std::string& name) const {
  for (const auto& [n, v] : named_parameters())
    if (n == name) return v;
  throw std::logic_error("SsdMobilenetFace: no parameter " + name);
}

// face-api's pointwiseConvLayer: conv "same" (1x1, or 3x3 in the extra layers) + the
// folded batch norm's offset + ReLU6.
Var SsdMobilenetFace::pointwise(const Var& x, const std::string& prefix, int stride) const {
  return ag::relu6(nn::conv2d_same(x, param(prefix + "weights"), param(prefix + "convolution_bn_offset"), stride));
}

// Depthwise 3x3 + batch norm + ReLU6, with the batch norm folded into the filter and a
// bias: BN(conv(x, w)) = conv(x, w * s) + (beta - mean * s), s = gamma / sqrt(var + eps)
// (Ioffe & Szegedy 2015, eq. after Alg. 1, at inference a fixed affine map per channel).
Var SsdMobilenetFace::depthwise(const Var& x, int layer, int stride) const {
  const std::string d = mb(layer, "depthwise");
  const Tensor& w = param(d + "depthwise_weights").value();
  const Tensor& gamma = param(d + "BatchNorm.gamma").value();
  const Tensor& beta = param(d + "BatchNorm.beta").value();
  const Tensor& mean = param(d + "BatchNorm.moving_mean").value();
  const Tensor& var = param(d + "BatchNorm.moving_variance").value();
  const int64_t c = w.size(0);
  Tensor wf = w.clone(), bf({c});
  for (int64_t k = 0; k < c; ++k) {
    const float s = gamma[k] / std::sqrt(var[k] + kBatchNormEps);
    for (int t = 0; t < 9; ++t) wf[k * 9 + t] *= s;
    bf[k] = beta[k] - mean[k] * s;
  }
  return ag::relu6(nn::conv2d_same(x, Var(wf), Var(bf), stride, static_cast<int>(c)));
}

// One map's predictions in face-api's order: cell by cell (row-major), box by box, as
// [cells * boxes, 7] = 4 offsets then 3 class logits.
Var SsdMobilenetFace::box_predictor(const Var& x, int i) const {
  const Var loc = ag::conv2d(x, param(pred(i, "BoxEncodingPredictor") + "weights"),
                             param(pred(i, "BoxEncodingPredictor") + "biases"));
  const Var cls = ag::conv2d(x, param(pred(i, "ClassPredictor") + "weights"),
                             param(pred(i, "ClassPredictor") + "biases"));
  const int64_t cells = x.value().size(2) * x.value().size(3), b = kPredBoxes[i];
  // [1, b*4, H, W] -> [H*W, b*4] (NHWC) -> [H*W*b, 4]
  const Var l = ag::reshape(ag::transpose(ag::reshape(loc, {4 * b, cells}), 0, 1), {cells * b, 4});
  const Var c = ag::reshape(ag::transpose(ag::reshape(cls, {3 * b, cells}), 0, 1), {cells * b, 3});
  return ag::concat({l, c}, 1);
}

Var SsdMobilenetFace::forward(const Var& x) {
  Var y = pointwise(x, mb(0, "pointwise"), 2);
  Var conv11;
  for (int i = 1; i <= 13; ++i) {
    y = pointwise(depthwise(y, i, depthwise_stride(i)), mb(i, "pointwise"), 1);
    if (i == 11) conv11 = y;
  }
  std::vector<Var> maps = {conv11, y};
  Var e = y;
  for (int i = 0; i < 8; ++i) {
    e = pointwise(e, "Prediction.Conv2d_" + std::to_string(i) + "_pointwise.", i % 2 ? 2 : 1);
    if (i % 2) maps.push_back(e);
  }
  std::vector<Var> preds;
  for (int i = 0; i < 6; ++i) preds.push_back(box_predictor(maps[i], i));
  return ag::concat(preds, 0);
}

Tensor ssd_face_input(const Image& img) {
  Tensor t = tf_square_resize(img, SsdMobilenetFace::kInputSize);
  for (float& v : t) v = v / 127.5f - 1.0f;  // face-api: tf.sub(tf.div(x, 127.5), 1)
  return t;
}

SsdFaceOutput SsdMobilenetFace::predict(const Image& img, SsdFaceStageTimes* times) {
  SsdFaceStageTimes local;
  SsdFaceStageTimes& t = times ? *times : local;
  Tensor input;
  {
    ScopedTimer st(t.preprocess);
    input = ssd_face_input(img);
  }
  Tensor raw;
  {
    ScopedTimer st(t.network);
    NoGradGuard ng;
    raw = forward(Var(input)).value();
  }
  ScopedTimer st(t.decode);
  // face-api's outputLayer, in float as tfjs computes it.
  const Tensor& d = param("Output.extra_dim").value();
  SsdFaceOutput out{Tensor({kDefaultBoxes, 4}), Tensor({kDefaultBoxes})};
  for (int64_t k = 0; k < kDefaultBoxes; ++k) {
    const float* a = d.data() + 4 * k;
    const float* r = raw.data() + 7 * k;
    const float h = a[2] - a[0], w = a[3] - a[1];
    const float cy = a[0] + h / 2, cx = a[1] + w / 2;
    const float half_h = std::exp(r[2] / 5) * h / 2, half_w = std::exp(r[3] / 5) * w / 2;
    const float y = r[0] / 10 * h + cy, x = r[1] / 10 * w + cx;
    float* b = out.boxes.data() + 4 * k;
    b[0] = y - half_h;
    b[1] = x - half_w;
    b[2] = y + half_h;
    b[3] = x + half_w;
    out.scores[k] = 1.0f / (1.0f + std::exp(-r[5]));
  }
  return out;
}

std::vector<Detection> SsdMobilenetFace::detect(const Image& img, const SsdFaceOptions& o,
                                                SsdFaceStageTimes* times) {
  SsdFaceStageTimes local;
  SsdFaceStageTimes& t = times ? *times : local;
  const SsdFaceOutput out = predict(img, &t);
  ScopedTimer st(t.decode);
  return ssd_face_detections(out, img.width, img.height, o);
}

std::vector<Detection> ssd_face_detections(const SsdFaceOutput& out, int image_w, int image_h,
                                           const SsdFaceOptions& o) {
  std::vector<Box> boxes;
  std::vector<float> scores;
  std::vector<int> index;
  for (int64_t k = 0; k < out.scores.numel(); ++k) {
    if (!(out.scores[k] > o.score_threshold)) continue;
    const float* b = out.boxes.data() + 4 * k;
    // face-api's IoU orders each box's corners first.
    boxes.push_back({std::min(b[1], b[3]), std::min(b[0], b[2]), std::max(b[1], b[3]), std::max(b[0], b[2])});
    scores.push_back(out.scores[k]);
    index.push_back(static_cast<int>(k));
  }
  const int input = SsdMobilenetFace::kInputSize;
  const ResizedSides sides = tf_resized_sides(image_w, image_h, input);
  const double pad_x = input / sides.width, pad_y = input / sides.height;
  std::vector<Detection> dets;
  for (int k : nms(boxes, scores, o.iou_threshold, o.max_results)) {
    const float* b = out.boxes.data() + 4 * index[k];
    const double top = std::max(0.0f, b[0]) * pad_y, bottom = std::min(1.0f, b[2]) * pad_y;
    const double left = std::max(0.0f, b[1]) * pad_x, right = std::min(1.0f, b[3]) * pad_x;
    Detection det;
    det.box = {static_cast<float>(left * image_w), static_cast<float>(top * image_h),
               static_cast<float>(right * image_w), static_cast<float>(bottom * image_h)};
    det.score = scores[k];
    dets.push_back(det);
  }
  return dets;
}

void load_ssd_mobilenet_face(const std::string& path, SsdMobilenetFace& net) {
  const nn::LoadReport r = nn::load_checkpoint_prefix(path, net, "", "");
  if (!r.initialised.empty())
    throw FileError(path, "not face-api's ssd_mobilenetv1 model: no tensor " + r.initialised.front());
  net.eval();
}

}  // namespace dl::models
