// Classification + localization as one network (the lecture's "localization as
// regression"): a shared CNN, then two heads on the same feature vector.
//
//   image 3 x S x S
//     -> backbone   (lesson 00's: conv-BN-ReLU-pool x 2, c1, c2)      S/4
//     -> neck       conv-BN-ReLU-pool x 2 (c3, c4)                    S/16
//     -> fc         flatten - linear(hidden) - ReLU - dropout
//     -> cls head   linear(num_classes)   class scores  (softmax loss)
//     -> box head   linear(4)             (cx, cy, w, h) / S        (L2 loss)
//
// The backbone keeps lesson 00's parameter names ("backbone.0.weight", ...), so the
// classifier's weights load into it: see load_grey_backbone.
#pragma once
#include <map>
#include <string>

#include "models/backbone.h"

namespace dl::models {

struct LocalizerConfig {
  int input_size = 32;
  int c1 = 16, c2 = 32, c3 = 64, c4 = 64;
  int hidden = 256;
  int num_classes = 10;
  float dropout = 0.2f;
  // What the class head reads: "fc" (the shared fc features, as on the lecture's
  // slide) or "avg" (the neck's feature map averaged over space, as in ResNet: the
  // same weights score the object wherever it is, which needs less data to learn).
  std::string cls_input = "fc";
  std::string to_json() const;
  static LocalizerConfig from_json(const std::string& json);  // throws std::invalid_argument
};

struct LocalizerOutput {
  Var scores;  // [N, num_classes] logits
  Var box;     // [N, 4]: (cx, cy, w, h) divided by the input size
};

class Localizer : public Module {
 public:
  Localizer(const LocalizerConfig& cfg, Rng& rng);
  LocalizerOutput predict(const Var& x);
  Var forward(const Var& x) override { return predict(x).scores; }
  std::string name() const override { return "Localizer"; }
  LocalizerConfig config;
  std::shared_ptr<Sequential> backbone, neck, fc;
  std::shared_ptr<Linear> cls_head, box_head;
};


}  // namespace dl::models
