// The classifier of lesson 00, a small CNN, and the backbone later lessons transfer from.
//   backbone: [conv3x3(c1) - BN - ReLU - maxpool2] -> [conv3x3(c2) - BN - ReLU - maxpool2]
//             28x28x1 -> 14x14xc1 -> 7x7xc2   (the "features", as in VGG-style nets)
//   head:     flatten - dropout - linear(c2*7*7 -> classes)
// Parameter names: "backbone.0.weight", "backbone.1.running_mean", ..., "head.2.weight".
// This file also holds what the classifier reads (a Fashion-MNIST-like 28x28 input), its
// loss on a batch, its class probabilities and its evaluation on a Fashion-MNIST split.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/batching.h"
#include "data/fashion_mnist.h"
#include "image/image.h"
#include "models/backbone.h"
#include "nn/config_fields.h"

namespace dl::models {

struct SmallCnnConfig {
  int in_channels = 1;
  int c1 = 16, c2 = 32;
  int num_classes = 10;
  int input_size = 28;
  float dropout = 0.1f;
  // The fields above, declared once with their ranges (nn/config_fields.h).
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static SmallCnnConfig from_json(const std::string& json) {  // throws std::invalid_argument
    return nn::config_from_json<SmallCnnConfig>(json);
  }
};

class SmallCnn : public Module {
 public:
  SmallCnn(const SmallCnnConfig& cfg, Rng& rng);
  Var forward(const Var& x) override { return (*head)(features(x)); }
  Var features(const Var& x) { return (*backbone)(x); }
  std::string name() const override { return "SmallCnn"; }
  SmallCnnConfig config;
  std::shared_ptr<Sequential> backbone, head;
};

// ---- pre-processing -------------------------------------------------------------------
// Any grey image -> 28x28 like Fashion-MNIST: light object on a dark background, so
// photos of dark things on light backgrounds (the usual case) are inverted.
Image to_fashion_input(const Image& grey);

// ---- inference --------------------------------------------------------------------------
// The class probabilities (softmax of the logits, [1, classes]) of one 28x28 grey input.
Tensor class_probabilities(SmallCnn& model, const Image& fashion_input);

// ---- training: the loss of a batch ------------------------------------------------------
struct ClassifierLoss {
  Var loss;             // mean cross-entropy of the batch
  int64_t correct = 0;  // images whose highest logit is the true class
};
ClassifierLoss classifier_loss(SmallCnn& model, const Batch& batch);

// ---- evaluation on a Fashion-MNIST split --------------------------------------------------
// Confusion matrix: rows = true class, columns = predicted class.
struct ClassifierEval {
  std::vector<std::vector<int64_t>> confusion;
  double loss = 0.0;  // mean cross-entropy
  int64_t total = 0, correct = 0;
  double accuracy() const { return total ? double(correct) / total : 0.0; }
  // Accuracy on each true class: the confusion matrix's diagonal over its row sums.
  std::vector<double> per_class_accuracy() const;
};
// Every image of `data` in order, `batch` at a time, in eval mode without gradients
// (the model's training mode is restored afterwards).
ClassifierEval evaluate_classifier(Module& model, const FashionMnist& data, int batch);

}  // namespace dl::models
