#include "models/classifier.h"

#include <algorithm>

#include "autograd/ops.h"
#include "image/transforms.h"
#include "tensor/ops.h"

namespace dl::models {

// Ranges: classify has no flag for these; they bound what a model file may allocate.
nn::ConfigFields SmallCnnConfig::fields() {
  nn::ConfigFields f("small_cnn", "a classify model");
  f.field("in_channels", in_channels, 1, 4096);
  backbone_fields(f, c1, c2);
  f.field("num_classes", num_classes, 1, 10000);
  f.field("input_size", input_size, 4, 4096).step(4);  // two 2x2 poolings
  f.field("dropout", dropout, 0.0f, 0.99f);
  return f;
}

SmallCnn::SmallCnn(const SmallCnnConfig& cfg, Rng& rng) : config(cfg) {
  backbone = make_backbone(cfg.in_channels, cfg.c1, cfg.c2, rng);
  const int s = cfg.input_size / 4;
  head = std::make_shared<Sequential>();
  head->add(std::make_shared<Flatten>());
  head->add(std::make_shared<Dropout>(cfg.dropout, rng.next_u64()));
  head->add(std::make_shared<Linear>(cfg.c2 * s * s, cfg.num_classes, rng));
  register_module("backbone", backbone);
  register_module("head", head);
}

Image to_fashion_input(const Image& grey) {
  Image small = (grey.width == 28 && grey.height == 28) ? grey : resize_bilinear(grey, 28, 28);
  double border = 0;
  int nb = 0;
  for (int i = 0; i < 28; ++i) {
    border += small.at(i, 0) + small.at(i, 27) + small.at(0, i) + small.at(27, i);
    nb += 4;
  }
  if (border / nb > 127)
    for (auto& p : small.pixels) p = static_cast<uint8_t>(255 - p);
  return small;
}

Tensor class_probabilities(SmallCnn& model, const Image& fashion_input) {
  NoGradGuard no_grad;
  Tensor x = normalise_image(fashion_input.pixels.data(), 28, 28);
  return ag::softmax(model.forward(Var(x)), 1).value();
}

namespace {

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  Tensor pred = argmax(logits, 1);
  int64_t c = 0;
  for (int64_t i = 0; i < pred.numel(); ++i) c += pred[i] == labels[i];
  return c;
}

}  // namespace

ClassifierLoss classifier_loss(SmallCnn& model, const Batch& batch) {
  Var logits = model(Var(batch.images));
  return {ag::cross_entropy(logits, batch.labels), count_correct(logits.value(), batch.labels)};
}

std::vector<double> ClassifierEval::per_class_accuracy() const {
  std::vector<double> acc(confusion.size(), 0.0);
  for (size_t c = 0; c < confusion.size(); ++c) {
    int64_t row = 0;
    for (int64_t k : confusion[c]) row += k;
    acc[c] = row ? double(confusion[c][c]) / row : 0.0;
  }
  return acc;
}

ClassifierEval evaluate_classifier(Module& model, const FashionMnist& data, int batch) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  ClassifierEval ev;
  ev.confusion.assign(10, std::vector<int64_t>(10, 0));
  std::vector<int64_t> order(static_cast<size_t>(data.count));
  for (int64_t i = 0; i < data.count; ++i) order[i] = i;
  for (int64_t s = 0; s < data.count; s += batch) {
    Batch b = make_batch(data, order, s, batch);
    Var logits = model(Var(b.images));
    ev.loss += ag::cross_entropy(logits, b.labels, Tensor(), -100, ag::Reduction::Sum).item();
    Tensor pred = argmax(logits.value(), 1);
    for (int64_t i = 0; i < pred.numel(); ++i) {
      const int t = static_cast<int>(b.labels[i]), p = static_cast<int>(pred[i]);
      ev.confusion[t][p]++;
      ev.correct += t == p;
      ev.total++;
    }
  }
  ev.loss /= std::max<int64_t>(1, ev.total);
  model.train(was_training);
  return ev;
}

}  // namespace dl::models
