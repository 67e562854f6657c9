// Lesson 06, "a real one": face-api's Tiny Face Detector, a Tiny-YOLOv2-style one-shot
// detector (Redmon & Farhadi, "YOLO9000", CVPR 2017, sec. 2 "Better": anchor boxes,
// direct location prediction) trained on real faces by Vincent Mühler (face-api.js),
// imported from its TensorFlow.js weights (nn/tfjs_weights.h, bin/import_tfjs).
//
//   image -> pad to a square (zeros right/bottom) -> bilinear resize to 416 x 416
//         -> (RGB - mean) / 255
//   conv0 3x3 (3 -> 16, valid) + leaky 0.1            414 x 414
//   maxpool 2x2/2 "same"                              207
//   5 x [depthwise 3x3 + pointwise 1x1 + bias + leaky 0.1] (16->32->64->128->256->512)
//        with maxpool 2x2/2 "same" after the first four (104, 52, 26, 13)
//        and 2x2/1 "same" after the fifth             13 x 13
//   conv8 1x1 (512 -> 5 anchors x 5)                  13 x 13 x 25
//
// Depthwise-separable convolutions are MobileNet's (Howard et al. 2017, sec. 3.1): a
// 3x3 filter per channel, then a 1x1 mixing channels, ~8x fewer multiply-adds than a
// full 3x3. "same" pooling is TensorFlow's: an odd map is padded on the right/bottom only.
//
// Decoding (YOLO9000 sec. 2, "Direct location prediction"; face-api's TinyYolov2Base):
// cell (row, col), anchor a with prior (pw, ph) in cells,
//   cx = (col + sigmoid(tx)) / 13,   w = pw * exp(tw) / 13      (relative to the square)
//   cy = (row + sigmoid(ty)) / 13,   h = ph * exp(th) / 13
//   score = sigmoid(to)   (one class: no softmax)
// then score > threshold, NMS at IoU 0.4.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "detection/detection.h"
#include "image/image.h"
#include "nn/module.h"

namespace dl::models {

struct TinyFaceDetectorOptions {
  int input_size = 416;          // multiple of 32 (face-api's check); 13 cells at 416
  float score_threshold = 0.5f;  // face-api's default
  double iou_threshold = 0.4;    // face-api's IOU_THRESHOLD
};

// Per-stage seconds of one detect() (bench).
struct TinyFaceStageTimes {
  double preprocess = 0, network = 0, decode = 0;
  double total() const { return preprocess + network + decode; }
};

// One anchor box's raw prediction and where it sits (for the lesson's pictures).
struct TinyFaceCandidate {
  int row = 0, col = 0, anchor = 0;
  float score = 0;
  Box box;  // pixels of the original image
};

class TinyFaceDetector : public nn::Module {
 public:
  // Anchor priors (width, height) in cells of the 13 x 13 grid (face-api's BOX_ANCHORS).
  static constexpr std::array<std::array<double, 2>, 5> kAnchors = {{{1.603231, 2.094468},
                                                                   {6.041143, 7.080126},
                                                                   {2.882459, 3.518061},
                                                                   {4.266906, 5.178857},
                                                                   {9.041765, 10.66308}}};
  static constexpr std::array<float, 3> kMeanRgb = {117.001f, 114.697f, 97.404f};

  TinyFaceDetector();  // zero weights; load them with nn::load_checkpoint
  std::string name() const override { return "TinyFaceDetector"; }
  // x [N, 3, S, S] (pre-processed) -> [N, 25, S/32, S/32]: anchor a's (tx, ty, tw, th, to)
  // are channels 5a .. 5a + 4.
  Var forward(const Var& x) override;

  std::vector<Detection> detect(const Image& img, const TinyFaceDetectorOptions& o = {},
                                TinyFaceStageTimes* times = nullptr,
                                std::vector<TinyFaceCandidate>* above_threshold = nullptr);

 private:
  struct SepConv {
    Var depthwise, pointwise, bias;
  };
  Var sep_conv(const Var& x, const SepConv& s);
  Var conv0_w_, conv0_b_, conv8_w_, conv8_b_;
  std::array<SepConv, 5> sep_;
};

// The network's input for one image: padded to a square with zeros on the right/bottom,
// resized to size x size by TensorFlow's bilinear resize (align_corners = false,
// half_pixel_centers = false: source pixel = output pixel * in / out), then
// (value - mean RGB) / 255. [1, 3, size, size].
Tensor tiny_face_input(const Image& img, int size);

// Decodes a raw output [1, 25, G, G] into boxes (pixels of an image_w x image_h image)
// with score > threshold, in (row, col, anchor) order, as face-api's extractBoxes.
std::vector<TinyFaceCandidate> decode_tiny_face(const Tensor& out, int image_w, int image_h,
                                                int input_size, float score_threshold);

}  // namespace dl::models
