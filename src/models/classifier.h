// The small CNN of lesson 00 and the backbone later lessons transfer from.
//   backbone: [conv3x3(c1) - BN - ReLU - maxpool2] -> [conv3x3(c2) - BN - ReLU - maxpool2]
//             28x28x1 -> 14x14xc1 -> 7x7xc2   (the "features", as in VGG-style nets)
//   head:     flatten - dropout - linear(c2*7*7 -> classes)
// Parameter names: "backbone.0.weight", "backbone.1.running_mean", ..., "head.2.weight".
#pragma once
#include <string>

#include "models/backbone.h"

namespace dl::models {

struct SmallCnnConfig {
  int in_channels = 1;
  int c1 = 16, c2 = 32;
  int num_classes = 10;
  int input_size = 28;
  float dropout = 0.1f;
  std::string to_json() const;
  static SmallCnnConfig from_json(const std::string& json);  // throws std::invalid_argument
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

}  // namespace dl::models
