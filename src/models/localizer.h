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
//
// The model owns its whole use: an image's input (localizer_input), a batch of scenes
// with its targets (make_localizer_batch), the batch's multitask loss (Localizer::losses,
// multitask_loss.h), one image's class and box (Localizer::localize) and the test
// scores (evaluate).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "eval/localization_metrics.h"
#include "models/backbone.h"
#include "models/multitask_loss.h"
#include "nn/config_fields.h"

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
  // Every field above, declared once with its range (nn/config_fields.h), bound to this
  // object's members: to_json writes the model file's config from it, from_json reads
  // and range-checks one.
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static LocalizerConfig from_json(const std::string& json) {  // throws std::invalid_argument
    return nn::config_from_json<LocalizerConfig>(json);
  }
};

struct LocalizerOutput {
  Var scores;  // [N, num_classes] logits
  Var box;     // [N, 4]: (cx, cy, w, h) divided by the input size
};

// ---- data: images -> normalised [B, 3, S, S]; targets: class, (cx, cy, w, h) / S ----
// The pixel normalisation of lesson 00 on every channel, so the transferred grey
// filters see inputs in the range they were trained on.
struct LocalizerBatch {
  Tensor images;  // [B, 3, S, S]
  Tensor labels;  // [B] class indices
  Tensor boxes;   // [B, 4] (cx, cy, w, h) / S
};

// The image shrunk to S x S, normalised: [3, S, S].
Tensor localizer_input(const Image& img, int size);

// The object of a single-object image: its largest box (datagen --single has one);
// -1 when the image has none.
int main_object(const DetectionItem& item);

// Item k of a scene set: a file's scene or a freshly generated one.
using SceneSource = std::function<DetectionItem(int64_t)>;

// Items order[start, start+size) (fewer at the end of `order`), each from `scene`.
// Augmentation when flip_rng is given: a horizontal flip with probability 1/2, from a
// per-item Rng fork (mirrors the box too).
LocalizerBatch make_localizer_batch(const SceneSource& scene, const std::vector<int64_t>& order,
                                    int64_t start, int64_t size, int input, const Rng* flip_rng);

// Normalised (cx, cy, w, h) -> pixel box in an image of the given size.
Box box_to_pixels(const float* t, float width, float height);

// What one image gets: class probabilities and the box in the image's pixels.
struct Localization {
  Tensor probs;              // [num_classes], softmax of the class scores
  std::vector<int> ranking;  // the classes by decreasing probability (ties: lower first)
  Box box;                   // clipped to the image
};

class Localizer : public Module {
 public:
  Localizer(const LocalizerConfig& cfg, Rng& rng);
  LocalizerOutput predict(const Var& x);
  // The multitask loss of a batch (classification, localization and their total,
  // multitask_loss.h), and how many of its classes the scores got right.
  struct Losses {
    MultitaskLoss loss;
    int64_t correct = 0;
  };
  Losses losses(const LocalizerBatch& b, float lambda);
  // One image, any size: resized to the input size, classified and localized.
  Localization localize(const Image& img);
  Var forward(const Var& x) override { return predict(x).scores; }
  std::string name() const override { return "Localizer"; }
  LocalizerConfig config;
  std::shared_ptr<Sequential> backbone, neck, fc;
  std::shared_ptr<Linear> cls_head, box_head;
};

// Accuracy, mean IoU and localization accuracy (eval/localization_metrics.h) on every
// image of `ds`, in batches of `batch`, in eval mode.
LocalizationEval evaluate(Localizer& model, const DetectionDataset& ds, int batch);

}  // namespace dl::models
