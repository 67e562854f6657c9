// Lesson 06, "a real one": face-api's SSD face detector, SSD (Liu et al., ECCV 2016) on a
// MobileNetV1 backbone (Howard et al. 2017) as the TensorFlow Object Detection API builds
// it, trained on faces; imported from its TensorFlow.js weights (bin/import_tfjs).
//
//   image -> pad to a square (zeros right/bottom) -> bilinear resize 512 x 512 -> x/127.5 - 1
//   MobileNetV1: conv 3x3/2 + ReLU6, then 13 x [depthwise 3x3 (stride 2 at 2, 4, 6, 12)
//     + batch norm + ReLU6, pointwise 1x1 + ReLU6]        256 -> 16 x 16 x 1024
//   extra layers: 4 x [1x1 + ReLU6, 3x3/2 + ReLU6]         8, 4, 2, 1
//   box predictors (1x1 convs) on 6 maps: conv 11 (32 x 32, 3 default boxes per cell),
//     16 x 16, 8, 4, 2, 1 (6 default boxes each): 5118 boxes, 4 offsets + 3 class logits
// Every conv pads TensorFlow's "same" way (nn/tf_padding.h): a 3x3/2 on an even map pads
// only the right/bottom. The pointwise layers' batch norm is already folded into their
// weights (the file keeps only its offset); the depthwise layers' is folded here.
//
// Decoding (SSD eq. 2 with the TF API's scale factors 10, 10, 5, 5): default box d
// (corners ymin, xmin, ymax, xmax, stored in the file as Output/extra_dim), offsets t,
//   cy = d_cy + t_y / 10 * d_h,   h = d_h * exp(t_h / 5)      (x, w alike)
// score = sigmoid(logit of class 1 = face); score > threshold, NMS at IoU 0.5, at most
// 100 faces; corners clipped to [0, 1] of the padded square, then mapped to the photo.
#pragma once
#include <string>
#include <vector>

#include "detection/detection.h"
#include "image/image.h"
#include "nn/module.h"

namespace dl::models {

struct SsdFaceOptions {
  float score_threshold = 0.5f;  // face-api's minConfidence default
  double iou_threshold = 0.5;    // face-api's
  int max_results = 100;
};

struct SsdFaceStageTimes {
  double preprocess = 0, network = 0, decode = 0;
  double total() const { return preprocess + network + decode; }
};

// The 5118 default boxes' decoded corners (ymin, xmin, ymax, xmax, relative to the padded
// square) and face scores: what face-api's outputLayer returns.
struct SsdFaceOutput {
  Tensor boxes;   // [5118, 4]
  Tensor scores;  // [5118]
};

class SsdMobilenetFace : public nn::Module {
 public:
  static constexpr int kInputSize = 512;
  SsdMobilenetFace();  // zero weights; load with load_ssd_mobilenet_face
  std::string name() const override { return "SsdMobilenetFace"; }
  // x [1, 3, 512, 512] -> box offsets and class logits concatenated: [5118, 7]
  // (ty, tx, th, tw, background, face, other) in face-api's order of the boxes.
  Var forward(const Var& x) override;
  SsdFaceOutput predict(const Image& img, SsdFaceStageTimes* times = nullptr);
  std::vector<Detection> detect(const Image& img, const SsdFaceOptions& o = {},
                                SsdFaceStageTimes* times = nullptr);

 private:
  Var param(const std::string& name) const;
  Var pointwise(const Var& x, const std::string& prefix, int stride) const;
  Var depthwise(const Var& x, int layer, int stride) const;
  Var box_predictor(const Var& x, int i) const;
};

// The faces in predict()'s output for an image_w x image_h photo: score > threshold, NMS,
// corners clipped to the padded square and mapped to the photo's pixels.
std::vector<Detection> ssd_face_detections(const SsdFaceOutput& out, int image_w, int image_h,
                                           const SsdFaceOptions& o);

// Loads an imported ssd_mobilenetv1_model.safetensors: every parameter must be there; the
// TensorFlow graph's leftover constants (Preprocessor/..., int32 shapes) are ignored.
void load_ssd_mobilenet_face(const std::string& path, SsdMobilenetFace& net);

// [1, 3, 512, 512]: padded to a square, TF bilinear resize, then x / 127.5 - 1.
Tensor ssd_face_input(const Image& img);

}  // namespace dl::models
