// The crop classifier of lesson 03: "is this S x S window background or one of the
// 10 classes?", built so that it can also run fully convolutionally (OverFeat,
// Sermanet et al. 2014, sec. 3.5: "ConvNets and sliding window efficiency").
//
//   crop 3 x 22 x 22
//     backbone  lesson 00's two blocks, *without padding*:
//               conv3x3(c1) BN ReLU pool2  -> 10 x 10      conv3x3(c2) BN ReLU pool2 -> 4 x 4
//     neck      conv3x3(c3) BN ReLU         -> 2 x 2
//     head      conv2x2(hidden) ReLU Dropout  -> 1 x 1   (the "fully connected" layer: its
//               kernel covers the whole 2 x 2 map, so on a crop it *is* a Linear layer)
//               conv1x1(classes)             -> 1 x 1   (background + 10 class scores)
//
// On a bigger image the same layers give a map of scores, one per window at stride 4
// (two 2x2 poolings), and each score is exactly what the crop at that position gets:
// every layer is a convolution or pooling without padding, so a crop's output depends
// on its own pixels only. Padding would break this (a crop's border would see zeros
// where the big image has pixels), which is why the backbone drops lesson 00's.
// Windows must sit at multiples of the stride (4 input pixels) so that the 2x2
// poolings group the same pixels in both runs.
//
// Input sizes for which every pooling divides evenly: S = 4k + 14, head kernel k.
#pragma once
#include <string>
#include <vector>

#include "detection/sliding_windows.h"
#include "image/image.h"
#include "models/backbone.h"
#include "nn/config_fields.h"

namespace dl::models {

struct CropClassifierConfig {
  int input_size = 22;
  int c1 = 16, c2 = 32, c3 = 32;
  int hidden = 64;
  int num_classes = 11;  // index 0 is background
  float dropout = 0.2f;
  int head_kernel() const { return (input_size - 14) / 4; }
  int classes() const { return num_classes - 1; }  // object classes (no background)
  // The fields above, declared once with their ranges (nn/config_fields.h).
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static CropClassifierConfig from_json(const std::string& json) {  // throws std::invalid_argument
    return nn::config_from_json<CropClassifierConfig>(json);
  }
};

class CropClassifier : public Module {
 public:
  CropClassifier(const CropClassifierConfig& cfg, Rng& rng);
  // Any image [N, 3, H, W] with H, W >= input_size -> score map [N, classes, h, w],
  // h = (H - input_size) / 4 + 1 (the windows at stride 4).
  Var forward(const Var& x) override;
  // Crops [N, 3, S, S] -> logits [N, classes].
  Var classify(const Var& crops);
  std::string name() const override { return "CropClassifier"; }
  static constexpr int kStride = kBackboneStride;
  CropClassifierConfig config;
  std::shared_ptr<Sequential> backbone, neck, head;
};

// How windows are scored.
//   Crops: cut every window out of its pyramid level and classify it on its own
//          (batches of `crop_batch` independent crops: batching shares no computation).
//   Conv:  run the network once over each whole level; read the window's score off
//          the map. Needs the stride to be a multiple of CropClassifier::kStride.
enum class ScanMode { Crops, Conv };

struct WindowScores {
  Tensor probs;            // [windows, classes] softmax, rows in all_window_boxes order
  int64_t windows = 0;     // windows scored
  int64_t positions = 0;   // network evaluations: crops (Crops) or score-map cells (Conv)
};

// Scores every window of `levels` (made for img's size and the model's input size).
// Puts the model in eval mode. Throws std::invalid_argument on a mismatch.
WindowScores score_windows(CropClassifier& model, const Image& img,
                           const std::vector<PyramidLevel>& levels, ScanMode mode,
                           int crop_batch = 64);

}  // namespace dl::models
