#include "models/localizer.h"

#include <fmt/core.h>

#include <cmath>

#include "autograd/ops.h"
#include "data/batching.h"
#include "image/transforms.h"
#include "nn/safetensors.h"
#include "models/classifier.h"
#include "util/files.h"

namespace dl::models {

// Ranges: the model file may ask for no more than the program could have trained
// (--input-size 16..512, --dropout 0..0.95, channels up to 1024).
nn::ConfigFields LocalizerConfig::fields() {
  nn::ConfigFields f("localizer", "a classify_localize model");
  f.field("input_size", input_size, 16, 1024).step(16);
  backbone_fields(f, c1, c2);
  f.field("c3", c3, 1, 4096);
  f.field("c4", c4, 1, 4096);
  f.field("hidden", hidden, 1, 65536);
  f.field("num_classes", num_classes, 1, 10000);
  f.field("dropout", dropout, 0.0f, 0.99f);
  f.field("cls_input", cls_input, {"fc", "avg"}).optional();  // older models: "fc"
  return f;
}

namespace {
void add_conv_block(Sequential& s, int in, int out, Rng& rng) {
  s.add(std::make_shared<Conv2d>(in, out, 3, 1, 1, rng, false));
  s.add(std::make_shared<BatchNorm2d>(out));
  s.add(std::make_shared<ReLU>());
  s.add(std::make_shared<MaxPool2d>(2));
}
}  // namespace

Localizer::Localizer(const LocalizerConfig& cfg, Rng& rng) : config(cfg) {
  backbone = make_backbone(3, cfg.c1, cfg.c2, rng);
  neck = std::make_shared<Sequential>();
  add_conv_block(*neck, cfg.c2, cfg.c3, rng);
  add_conv_block(*neck, cfg.c3, cfg.c4, rng);
  const int s = cfg.input_size / 16;
  fc = std::make_shared<Sequential>();
  fc->add(std::make_shared<Flatten>());
  fc->add(std::make_shared<Linear>(cfg.c4 * s * s, cfg.hidden, rng));
  fc->add(std::make_shared<ReLU>());
  fc->add(std::make_shared<Dropout>(cfg.dropout, rng.next_u64()));
  cls_head = std::make_shared<Linear>(cfg.cls_input == "avg" ? cfg.c4 : cfg.hidden,
                                      cfg.num_classes, rng);
  box_head = std::make_shared<Linear>(cfg.hidden, 4, rng);
  // Heads start small, as in Fast R-CNN's released models (scores N(0, 0.01), boxes
  // N(0, 0.001)): the first losses are then ~log(classes) and the L2 loss of the mean
  // box, instead of gradients large enough to throw the shared layers off.
  for (float& w : cls_head->weight.value()) w = rng.normal(0.0f, 0.01f);
  for (float& w : box_head->weight.value()) w = rng.normal(0.0f, 0.001f);
  const float mean_box[4] = {0.5f, 0.5f, 0.3f, 0.3f};
  for (int i = 0; i < 4; ++i) box_head->bias.value()[i] = mean_box[i];
  register_module("backbone", backbone);
  register_module("neck", neck);
  register_module("fc", fc);
  register_module("cls_head", cls_head);
  register_module("box_head", box_head);
}

LocalizerOutput Localizer::predict(const Var& x) {
  check_resized_input(x, config.input_size, "Localizer");
  Var f = (*neck)((*backbone)(x));
  Var h = (*fc)(f);
  Var cls_in = config.cls_input == "avg" ? ag::mean(f, {2, 3}) : h;
  return {(*cls_head)(cls_in), (*box_head)(h)};
}

// ---- data -------------------------------------------------------------------------

// When S divides the (square) image's side -- the 128 x 128 scenes at S = 32 or 64 --
// each input pixel is the mean of its k x k block: plain bilinear sampling at a 4x
// reduction reads only the middle 2 x 2 of every 4 x 4 block, so thin parts of an item
// flicker in and out (aliasing) and the scenes' pixel noise passes through. Other sizes
// (photos) are resized bilinearly.
Tensor localizer_input(const Image& img, int size) {
  Tensor t;
  if (img.channels == 3 && img.width == img.height && img.width > size &&
      img.width % size == 0) {
    const int k = img.width / size;
    const float scale = 1.0f / (255.0f * k * k);
    t = Tensor({3, size, size});
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
          int sum = 0;
          for (int dy = 0; dy < k; ++dy)
            for (int dx = 0; dx < k; ++dx) sum += img.at(x * k + dx, y * k + dy, c);
          t[(c * size + y) * size + x] = sum * scale;
        }
  } else {
    t = image_to_tensor(
        (img.width == size && img.height == size) ? img : resize_bilinear(img, size, size));
  }
  normalize_channels_(t, {kFashionMean, kFashionMean, kFashionMean},
                      {kFashionStd, kFashionStd, kFashionStd});
  return t;
}

int main_object(const DetectionItem& item) {
  int best = -1;
  for (size_t i = 0; i < item.boxes.size(); ++i)
    if (best < 0 || box_area(item.boxes[i]) > box_area(item.boxes[best])) best = static_cast<int>(i);
  return best;
}

LocalizerBatch make_localizer_batch(const SceneSource& scene, const std::vector<int64_t>& order,
                                    int64_t start, int64_t size, int input, const Rng* flip_rng) {
  const int64_t n = std::min<int64_t>(size, static_cast<int64_t>(order.size()) - start);
  LocalizerBatch b{Tensor({n, 3, input, input}), Tensor({n}), Tensor({n, 4})};
  const int64_t plane = 3LL * input * input;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const DetectionItem item = scene(order[start + i]);
    const int k = main_object(item);
    Box box = k >= 0 ? item.boxes[k] : Box{};
    Tensor x = localizer_input(item.image, input);
    const float sx = float(input) / item.image.width, sy = float(input) / item.image.height;
    box = {box.x1 * sx, box.y1 * sy, box.x2 * sx, box.y2 * sy};
    bool flip = false;
    if (flip_rng) {
      Rng r = flip_rng->fork(static_cast<uint64_t>(order[start + i]));
      flip = r.bernoulli(0.5f);
    }
    float* dst = b.images.data() + i * plane;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < input; ++y)
        for (int xx = 0; xx < input; ++xx) {
          const int src_x = flip ? input - 1 - xx : xx;
          dst[(c * input + y) * input + xx] = x[(c * input + y) * input + src_x];
        }
    if (flip) box = {input - box.x2, box.y1, input - box.x1, box.y2};
    b.labels[i] = static_cast<float>(k >= 0 ? item.labels[k] : 0);
    const float t[4] = {box.cx() / input, box.cy() / input, box.width() / input,
                        box.height() / input};
    for (int j = 0; j < 4; ++j) b.boxes[i * 4 + j] = t[j];
  }
  return b;
}

Box box_to_pixels(const float* t, float width, float height) {
  return box_from({t[0] * width, t[1] * height, t[2] * width, t[3] * height}, BoxFormat::CXCYWH);
}

// ---- losses and inference -----------------------------------------------------------

Localizer::Losses Localizer::losses(const LocalizerBatch& b, float lambda) {
  LocalizerOutput out = predict(Var(b.images));
  Losses l{classify_localize_loss(out.scores, b.labels, out.box, b.boxes, lambda), 0};
  Tensor pred = argmax(out.scores.value(), 1);
  for (int64_t i = 0; i < pred.numel(); ++i) l.correct += pred[i] == b.labels[i];
  return l;
}

Localization Localizer::localize(const Image& img) {
  NoGradGuard no_grad;
  const int S = config.input_size;
  LocalizerOutput out = predict(Var(localizer_input(img, S).reshape({1, 3, S, S})));
  Localization r;
  r.probs = ag::softmax(out.scores, 1).value();
  r.ranking.resize(r.probs.numel());
  for (size_t i = 0; i < r.ranking.size(); ++i) r.ranking[i] = static_cast<int>(i);
  std::stable_sort(r.ranking.begin(), r.ranking.end(),
                   [&](int i, int j) { return r.probs[i] > r.probs[j]; });
  r.box = clip_box(box_to_pixels(out.box.value().data(), img.width, img.height), img.width,
                   img.height);
  return r;
}

// ---- evaluation ---------------------------------------------------------------------

LocalizationEval evaluate(Localizer& model, const DetectionDataset& ds, int batch) {
  if (ds.items.empty()) throw FileError(ds.dir, "the test set has no images");
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  LocalizationEval ev(static_cast<int>(ds.class_names.size()));
  const int S = model.config.input_size;
  std::vector<int64_t> order(ds.items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  for (size_t s = 0; s < order.size(); s += batch) {
    LocalizerBatch b = make_localizer_batch([&ds](int64_t k) { return ds.items[k]; }, order,
                                            static_cast<int64_t>(s), batch, S, nullptr);
    LocalizerOutput out = model.predict(Var(b.images));
    Tensor pred = argmax(out.scores.value(), 1);
    for (int64_t i = 0; i < pred.numel(); ++i) {
      const int truth = static_cast<int>(b.labels[i]);
      const float iou = box_iou(box_to_pixels(out.box.value().data() + 4 * i, 1, 1),
                                box_to_pixels(b.boxes.data() + 4 * i, 1, 1));
      const Image& im = ds.items[s + i].image;
      const float side = std::sqrt(b.boxes[4 * i + 2] * im.width * b.boxes[4 * i + 3] * im.height);
      ev.add(truth, static_cast<int>(pred[i]) == truth, iou, side);
    }
  }
  model.train(was_training);
  return ev;
}

}  // namespace dl::models
