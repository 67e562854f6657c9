// Lesson 02, on real faces: face-api's 68-point face landmark net, DeepPose's "pose
// estimation as regression" (Toshev & Szegedy, CVPR 2014, sec. 3: the joint coordinates
// regressed directly, normalised to the crop) applied to faces: one network maps a face
// crop to 136 numbers, the (x, y) of 68 points (the iBUG 300-W markup: jaw 0-16, brows
// 17-26, nose 27-35, eyes 36-47, mouth 48-67). Imported from TensorFlow.js weights.
//
//   face crop -> pad to a square (centred) -> TF bilinear resize 112 x 112
//             -> (RGB - mean) / 255
//   4 dense blocks (56, 28, 14, 7; 32, 64, 128, 256 channels), each
//       out1 = relu(first conv, stride 2)        (block 0: 3x3 conv; others separable)
//       out2 = sep(out1), out3 = sep(relu(out1 + out2)), out4 = sep(relu(out1 + out2 + out3))
//       relu(out1 + out2 + out3 + out4)          (DenseNet-style sums of earlier outputs)
//   avg pool 7x7 -> 256 -> fully connected -> 136 = (x, y) x 68, fractions of the square
// sep = depthwise 3x3 + pointwise 1x1 + bias; every conv pads TensorFlow's "same" way.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "image/image.h"
#include "nn/module.h"

namespace dl::models {

class FaceLandmark68 : public nn::Module {
 public:
  static constexpr int kInputSize = 112;
  static constexpr int kPoints = 68;
  FaceLandmark68();  // zero weights; load with nn::load_checkpoint
  std::string name() const override { return "FaceLandmark68"; }
  // x [N, 3, 112, 112] -> [N, 136]: x0, y0, x1, y1, ... as fractions of the padded square.
  Var forward(const Var& x) override;
  // The 68 points (x, y) in pixels of `img`, for the face in `box`: the crop is the box
  // clipped to the image and floored to whole pixels, as face-api's extractFaceTensors.
  std::vector<float> landmarks(const Image& img, const Box& box, Tensor* raw = nullptr);

 private:
  Var param(const std::string& name) const;
  Var sep(const Var& x, const std::string& prefix, int stride) const;
  Var dense_block(const Var& x, int block) const;
};

// The crop face-api takes for a detection box: clipped at the image borders, then
// x, y, width and height each floored. {x, y, width, height}.
std::array<int, 4> face_crop_rect(const Box& box, int image_w, int image_h);

// The net's input for a face crop: padded to a square with the padding split around the
// crop (the larger half after), TF bilinear resize to 112, (RGB - mean) / 255.
Tensor face_landmark_input(const Image& crop);

}  // namespace dl::models
