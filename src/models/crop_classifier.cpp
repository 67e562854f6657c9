#include "models/crop_classifier.h"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

#include "data/batching.h"
#include "detection/postprocess.h"
#include "image/transforms.h"

namespace dl::models {

// Ranges: the model file may ask for no more than the programs could have trained
// (--input-size 18..254, --hidden 1..4096, --neck-channels 1..1024).
nn::ConfigFields CropClassifierConfig::fields() {
  nn::ConfigFields f("crop_classifier", "a sliding_window model");
  f.field("input_size", input_size, 18, 1024).step(4);  // 4k + 14: the head's kernel >= 1
  backbone_fields(f, c1, c2);
  f.field("c3", c3, 1, 4096);
  f.field("hidden", hidden, 1, 65536);
  f.field("num_classes", num_classes, 2, 4096);
  f.field("dropout", dropout, 0.0f, 0.99f);
  return f;
}

namespace {
void add_valid_conv_block(Sequential& s, int in, int out, Rng& rng, bool pool) {
  s.add(std::make_shared<Conv2d>(in, out, 3, 1, 0, rng, false));
  s.add(std::make_shared<BatchNorm2d>(out));
  s.add(std::make_shared<ReLU>());
  if (pool) s.add(std::make_shared<MaxPool2d>(2));
}
}  // namespace

CropClassifier::CropClassifier(const CropClassifierConfig& cfg, Rng& rng) : config(cfg) {
  if (cfg.input_size < 18 || (cfg.input_size - 14) % 4 != 0)
    throw std::invalid_argument(
        fmt::format("crop classifier: input size {} is not 4k + 14 (k >= 1)", cfg.input_size));
  // Same layer indices as lesson 00's backbone (0 conv, 1 BN, 4 conv, 5 BN), so
  // load_grey_backbone finds "backbone.0.weight" etc.
  backbone = std::make_shared<Sequential>();
  add_valid_conv_block(*backbone, 3, cfg.c1, rng, true);
  add_valid_conv_block(*backbone, cfg.c1, cfg.c2, rng, true);
  neck = std::make_shared<Sequential>();
  add_valid_conv_block(*neck, cfg.c2, cfg.c3, rng, false);
  head = std::make_shared<Sequential>();
  const int k = cfg.head_kernel();
  head->add(std::make_shared<Conv2d>(cfg.c3, cfg.hidden, k, 1, 0, rng));
  head->add(std::make_shared<ReLU>());
  head->add(std::make_shared<Dropout>(cfg.dropout, rng.next_u64()));
  auto scores = std::make_shared<Conv2d>(cfg.hidden, cfg.num_classes, 1, 1, 0, rng);
  // Small initial scores (as Fast R-CNN's classifier, N(0, 0.01)): the first loss is
  // ~log(classes) and the transferred backbone is not thrown off by big gradients.
  for (float& w : scores->weight.value()) w = rng.normal(0.0f, 0.01f);
  head->add(scores);
  register_module("backbone", backbone);
  register_module("neck", neck);
  register_module("head", head);
}

Var CropClassifier::forward(const Var& x) {
  check_shape(x.dim() == 4 && x.size(1) == 3 && x.size(2) >= config.input_size &&
                  x.size(3) >= config.input_size,
              "CropClassifier",
              fmt::format("expected [N, 3, H, W] with H, W >= {}, got {}", config.input_size,
                          shape_str(x.shape())));
  return (*head)((*neck)((*backbone)(x)));
}

Var CropClassifier::classify(const Var& crops) {
  check_shape(crops.dim() == 4 && crops.size(2) == config.input_size &&
                  crops.size(3) == config.input_size,
              "CropClassifier",
              fmt::format("expected [N, 3, {0}, {0}] crops, got {1}", config.input_size,
                          shape_str(crops.shape())));
  return ag::reshape(forward(crops), {crops.size(0), config.num_classes});
}

WindowScores score_windows(CropClassifier& model, const Image& img,
                           const std::vector<PyramidLevel>& levels, ScanMode mode,
                           int crop_batch) {
  const int S = model.config.input_size, C = model.config.num_classes;
  if (crop_batch < 1) throw std::invalid_argument("score_windows: crop batch must be >= 1");
  for (const auto& l : levels) {
    if (l.crop_size != S)
      throw std::invalid_argument(fmt::format(
          "score_windows: windows of {} pixels for a classifier of {}", l.crop_size, S));
    if (mode == ScanMode::Conv && l.stride % CropClassifier::kStride != 0)
      throw std::invalid_argument(fmt::format(
          "the fully convolutional scan needs a stride that is a multiple of {} (the "
          "network's subsampling), got {}",
          CropClassifier::kStride, l.stride));
  }
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  WindowScores ws;
  ws.windows = count_windows(levels);
  ws.probs = Tensor({ws.windows, C});
  for (const auto& l : levels) {
    if (l.count() == 0) continue;
    const Tensor x = backbone_input(level_image(img, l));  // [3, h, w]
    const int64_t W = l.width, H = l.height;
    if (mode == ScanMode::Crops) {
      for (int64_t s = 0; s < l.count(); s += crop_batch) {
        const int64_t n = std::min<int64_t>(crop_batch, l.count() - s);
        Tensor batch({n, 3, S, S});
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) {
          const int64_t ix = (s + i) % l.nx, iy = (s + i) / l.nx;
          const int64_t x0 = ix * l.stride, y0 = iy * l.stride;
          float* dst = batch.data() + i * 3 * S * S;
          for (int c = 0; c < 3; ++c)
            for (int y = 0; y < S; ++y)
              std::copy_n(x.data() + (c * H + y0 + y) * W + x0, S, dst + (c * S + y) * S);
        }
        const Tensor logits = model.classify(Var(batch)).value();
        for (int64_t i = 0; i < n; ++i)
          softmax_strided(logits.data() + i * C, 1, C, ws.probs.data() + (l.first + s + i) * C);
        ws.positions += n;
      }
    } else {
      const Tensor map = model(Var(x.reshape({1, 3, H, W}))).value();  // [1, C, mh, mw]
      const int64_t mh = map.size(2), mw = map.size(3);
      const int64_t step = l.stride / CropClassifier::kStride;
      ws.positions += mh * mw;
      for (int64_t iy = 0; iy < l.ny; ++iy)
        for (int64_t ix = 0; ix < l.nx; ++ix) {
          const int64_t my = iy * step, mx = ix * step;
          softmax_strided(map.data() + my * mw + mx, mh * mw, C,
                       ws.probs.data() + (l.first + iy * l.nx + ix) * C);
        }
    }
  }
  model.train(was_training);
  return ws;
}

}  // namespace dl::models
