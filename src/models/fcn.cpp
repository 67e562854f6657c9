#include "models/fcn.h"

#include <algorithm>

#include "image/transforms.h"
#include "models/detection_batch.h"  // copy_into_batch
#include "tensor/upsample.h"
#include "util/timing.h"

namespace dl::models {

nn::ConfigFields FcnConfig::fields() {
  nn::ConfigFields f("fcn", "an fcn model");
  backbone_fields(f, c1, c2);
  f.field("c3", c3, 1, 4096);
  f.field("c4", c4, 1, 4096);
  f.field("num_classes", num_classes, 2, 255);  // labels are bytes; 255 is "ignore"
  f.field("input_size", input_size, 16, 1024).step(kFcnStride);
  f.field("upsample", upsample, {"nearest", "bilinear", "max-unpool", "transpose"});
  f.field("skips", skips);
  f.constant("stride", kFcnStride);
  return f;
}

// ---- up-sampling ------------------------------------------------------------------------
Var upsample_nearest2x(const Var& x) {
  check_shape(x.dim() == 4, "upsample_nearest2x", "expected [N, C, H, W], got " + shape_str(x.shape()));
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  // Broadcasting [N, C, H, 1, W, 1] against [2 x 2] copies; its backward sums each 2 x 2
  // block's gradient back onto the value it was copied from.
  const Var blocks = ag::add(ag::reshape(x, {N * C, H, 1, W, 1}), Var(Tensor({1, 1, 2, 1, 2})));
  return ag::reshape(blocks, {N, C, 2 * H, 2 * W});
}

Tensor bilinear_transpose_kernel(int channels) {
  // Output pixel 2i + 1 sits 1/4 of the way from input i to i + 1: weights 3/4 and 1/4,
  // and 2i the same from the other side -- align_corners = false's bilinear rule.
  const float f[4] = {0.25f, 0.75f, 0.75f, 0.25f};
  Tensor w({channels, 1, 4, 4});
  for (int c = 0; c < channels; ++c)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) w.at({c, 0, i, j}) = f[i] * f[j];
  return w;
}

// ---- the loss and the batch ----------------------------------------------------------------
Var fcn_loss(const Var& scores, const Tensor& labels, float background_weight) {
  Tensor weight;
  if (background_weight != 1.0f) {
    weight = Tensor({scores.size(1)}, 1.0f);
    weight[0] = background_weight;
  }
  return ag::cross_entropy(scores, labels, weight, kIgnoreLabel);
}

Image resize_labels(const Image& labels, int width, int height) {
  if (labels.width == width && labels.height == height) return labels;
  Image out(width, height, 1);
  for (int y = 0; y < height; ++y) {
    const int sy = std::min(labels.height - 1, int((y + 0.5) * labels.height / height));
    for (int x = 0; x < width; ++x) {
      const int sx = std::min(labels.width - 1, int((x + 0.5) * labels.width / width));
      out.at(x, y) = labels.at(sx, sy);
    }
  }
  return out;
}

FcnBatch make_fcn_batch(const SegmentationDataset& ds, const std::vector<int64_t>& idx,
                        const FcnConfig& cfg, bool flip, Rng& rng) {
  const int S = cfg.input_size;
  const int64_t N = static_cast<int64_t>(idx.size());
  FcnBatch b{Tensor({N, 3, S, S}), Tensor({N, S, S})};
  for (int64_t n = 0; n < N; ++n) {
    const SegmentationItem& item = ds.items.at(static_cast<size_t>(idx[n]));
    const bool mirror = flip && rng.bernoulli(0.5f);
    const bool resize = item.image.width != S || item.image.height != S;
    copy_into_batch(resize ? resize_bilinear(item.image, S, S) : item.image, mirror, b.images, n);
    const Image labels = resize_labels(item.labels, S, S);
    float* out = b.labels.data() + n * S * S;
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) out[y * S + x] = labels.at(mirror ? S - 1 - x : x, y);
  }
  return b;
}

// ---- the network -----------------------------------------------------------------------------
namespace {
std::shared_ptr<Sequential> conv_bn_relu(int cin, int cout, Rng& rng) {
  auto s = std::make_shared<Sequential>();
  s->add(std::make_shared<Conv2d>(cin, cout, 3, 1, 1, rng, false));
  s->add(std::make_shared<BatchNorm2d>(cout));
  s->add(std::make_shared<ReLU>());
  return s;
}

ag::Pool2dOptions pool2() { return {}; }  // 2 x 2, stride 2
}  // namespace

struct Fcn::Encoded {
  Var stride4, stride8, centre;  // the backbone's map, stage 3's, the centre (stride 16)
  // pool3's and pool4's switches and input sizes (H, W), for max unpooling
  std::shared_ptr<const std::vector<int64_t>> switches[2];
  int before_h[2] = {0, 0}, before_w[2] = {0, 0};
};

Fcn::Fcn(const FcnConfig& cfg, Rng& rng) : config(cfg) {
  check_shape(cfg.input_size % kFcnStride == 0, "Fcn", "input_size must be a multiple of 16");
  backbone = make_backbone(3, cfg.c1, cfg.c2, rng);
  stage3 = conv_bn_relu(cfg.c2, cfg.c3, rng);  // pool3 and pool4 are applied in encode(),
  stage4 = conv_bn_relu(cfg.c3, cfg.c4, rng);  // which keeps their switches
  centre = conv_bn_relu(cfg.c4, cfg.c4, rng);
  register_module("backbone", backbone);
  register_module("stage3", stage3);
  register_module("stage4", stage4);
  register_module("centre", centre);
  const int width[3] = {cfg.c4, cfg.c3, cfg.c2};  // channels at strides 16, 8, 4
  for (int k = 0; k < 2; ++k) {
    decoder.push_back(conv_bn_relu(width[k], width[k + 1], rng));
    register_module("decoder" + std::to_string(k), decoder.back());
    if (cfg.upsample == "transpose") {
      transpose_weight.push_back(register_parameter("up" + std::to_string(k) + ".weight",
                                                    bilinear_transpose_kernel(width[k + 1])));
      transpose_bias.push_back(register_parameter("up" + std::to_string(k) + ".bias", Tensor({width[k + 1]})));
    }
    if (!cfg.skips) continue;
    skip.push_back(std::make_shared<Conv2d>(width[k + 1], width[k + 1], 1, 1, 0, rng));
    // FCN §4.2 starts its new score layers at zero, so the net starts as if
    // there were no skip and learns how much of the finer map to add.
    skip.back()->weight.value().fill(0.0f);
    register_module("skip" + std::to_string(k), skip.back());
  }
  classifier = std::make_shared<Conv2d>(cfg.c2, cfg.num_classes, 3, 1, 1, rng);
  register_module("classifier", classifier);
}

Fcn::Encoded Fcn::encode(const Var& x) {
  check_shape(x.dim() == 4 && x.size(1) == 3 && x.size(2) % kFcnStride == 0 && x.size(3) % kFcnStride == 0,
              "Fcn", "expected [N, 3, H, W] images with H, W multiples of 16, got " + shape_str(x.shape()));
  Encoded e;
  auto pool = [&](int k, const Var& h) {
    e.before_h[k] = int(h.size(2));
    e.before_w[k] = int(h.size(3));
    ag::MaxPoolWithSwitches p = ag::max_pool2d_with_switches(h, pool2());
    e.switches[k] = p.switches;
    return p.y;
  };
  e.stride4 = (*backbone)(x);
  e.stride8 = (*stage3)(pool(0, e.stride4));
  e.centre = (*centre)((*stage4)(pool(1, e.stride8)));
  return e;
}

Var Fcn::up(int level, const Var& x, const Encoded& e) {
  const std::string& u = config.upsample;
  if (u == "nearest") return upsample_nearest2x(x);
  if (u == "bilinear") return ag::upsample_bilinear2d(x, int(2 * x.size(2)), int(2 * x.size(3)));
  if (u == "max-unpool") {
    const int k = 1 - level;  // level 0 undoes pool4, level 1 pool3
    return ag::max_unpool2d(x, e.switches[k], e.before_h[k], e.before_w[k]);
  }
  ag::Conv2dOptions o;
  o.stride_h = o.stride_w = 2;
  o.pad_h = o.pad_w = 1;  // (H - 1) * 2 - 2 + 4 = 2H
  o.groups = static_cast<int>(x.size(1));
  return ag::conv_transpose2d(x, transpose_weight[level], transpose_bias[level], o);
}

Var Fcn::decode(const Encoded& e) {
  Var h = e.centre;
  const Var* finer[2] = {&e.stride8, &e.stride4};
  for (int k = 0; k < 2; ++k) {
    h = up(k, (*decoder[k])(h), e);
    if (config.skips) h = ag::add(h, (*skip[k])(*finer[k]));
  }
  return (*classifier)(h);  // stride 4
}

Var Fcn::forward(const Var& x) {
  const Var scores = decode(encode(x));
  return ag::upsample_bilinear2d(scores, int(x.size(2)), int(x.size(3)));
}

Tensor Fcn::preprocess(const Image& img) const {
  return backbone_input_resized(img, config.input_size);
}

Image Fcn::predict(const Image& img, FcnStageTimes* t) {
  NoGradGuard no_grad;
  FcnStageTimes local;
  FcnStageTimes& st = t ? *t : local;
  const int s = config.input_size;
  Encoded e;
  {
    ScopedTimer timer(st.encoder);
    e = encode(Var(preprocess(img).reshape({1, 3, s, s})));
  }
  Tensor scores;
  {
    ScopedTimer timer(st.decoder);
    scores = decode(e).value();
  }
  ScopedTimer timer(st.labels);  // the last x 4, straight to the image's own size
  scores = upsample_bilinear2d_forward(scores, img.height, img.width, false);
  const Tensor best = argmax(scores, 1);  // [1, H, W]
  Image labels(img.width, img.height, 1);
  for (size_t i = 0; i < labels.pixels.size(); ++i) labels.pixels[i] = static_cast<uint8_t>(best[i]);
  return labels;
}

}  // namespace dl::models
