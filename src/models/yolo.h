// YOLO v1 (Redmon, Divvala, Girshick, Farhadi, CVPR 2016): "You Only Look Once" --
// detection without proposals. The image is divided into an S x S grid; the cell that
// holds an object's centre is responsible for it. Each cell predicts B boxes, each with
// (x, y, w, h) and a confidence, and ONE set of C conditional class probabilities
// Pr(class | object); one network maps the image straight to that S x S x (5B + C)
// tensor (§2, Figure 2).
//
//   image, resized to input_size x input_size (the paper: 448 x 448; here 128 x 128)
//     -> backbone   lesson 00's conv-BN-ReLU-pool x 2 (c1, c2)          stride 4, 32 x 32
//     -> neck       [maxpool2 - conv3x3 - BN - leaky 0.1] per halving, then
//                   conv3x3 - BN - leaky 0.1                            stride 16, S x S
//     -> head       conv1x1(hidden) - leaky - conv1x1(5B + C)   ("conv", the default)
//                   or flatten - fc(hidden) - leaky - dropout - fc(S S (5B + C))  ("fc",
//                   the paper's two fully connected layers)
//   output [N, S, S, 5B + C], linear (the paper's last layer has no activation); per
//   cell (row i, column j):  B x (x, y, sqrt(w), sqrt(h), confidence), then C class scores.
//     x, y     the box centre relative to the cell's bounds, 0..1 inside the cell
//     w, h     relative to the image; the network outputs their square roots (§2.2:
//              "we predict the square root of the bounding box width and height"), so
//              decoding squares them
//     conf     trained towards Pr(object) * IoU(predicted box, truth) (§2)
//
// Defaults, and why (VOC mAP@0.5 on the 200 test scenes; the default training, 14 epochs
// of the 2000 train scenes, batch 4, AdamW lr 2e-3, gives 53.9 %; the comparisons below
// are 12-epoch runs, lessons/06 has the whole table):
// * S = 8: 16-pixel cells, so the smallest objects (16 px) fill one cell and two of a
//   scene's 1-4 centres rarely share one (the paper's S = 7 on 448 px has 64-px cells);
// * B = 1, not the paper's 2: measured B = 1 49.4 %, B = 2 45.6 %, B = 3 46.9 %. With
//   ~2.5 objects per 64 cells, B predictors split the few positive examples between
//   them (each learns from a fraction) and every extra predictor is one more
//   "no object" confidence pushed to 0; --boxes 2 gives the paper's layout and makes
//   the responsible-predictor rule matter (the tests and exercise use B = 2 and 3);
// * the "conv" head: a 1 x 1 conv to `hidden` channels, leaky ReLU, a 1 x 1 conv to
//   5B + C, i.e. the paper's two FC layers applied to each cell alone. The paper's FC
//   head (flatten - fc(256) - dropout - fc(S S (5B + C)), --head fc) had 2.1 M weights in
//   its first layer and learned nothing useful in the time: val mAP 0.0 % after 4 epochs
//   (batch 16, lr 1e-3) against 21 % for the conv head, training loss 5.3 against 3.3;
//   the conv head shares one predictor across all cells, which 2000 scenes can train;
// * width 64 (neck 64 -> 128 channels): 96 adds ~1.1 ms per image (4.4 ms against 3.3 ms
//   at one thread), which would take YOLO below 3x Faster R-CNN's speed;
// * the neck pools first, then convolves (a stride-2 conv instead of the pooling: val
//   mAP 40 % against 47 % after 6 epochs), at 1/4 of the cost of convolving first;
// * the leaky ReLU (slope 0.1) of the paper on the new layers; the backbone keeps lesson
//   00's ReLU so that its pretrained weights mean what they meant.
//
// The loss is the paper's eq. 3 (yolo_loss below), the targets (yolo_targets) follow §2.2
// and the released darknet code where the paper is silent (which predictor is
// responsible when none overlaps the truth).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/detection.h"
#include "image/image.h"
#include "models/backbone.h"
#include "nn/config_fields.h"
#include "tensor/rng.h"

namespace dl::models {

struct YoloConfig {
  int c1 = 16, c2 = 32;     // backbone channels (lesson 00's)
  int width = 64;           // the neck's first conv; each further halving doubles it
  int grid = 8;             // S: cells per side
  int boxes = 1;            // B: boxes per cell (the paper: 2; see above)
  int num_classes = 10;     // C (no background class: confidence says "no object")
  int input_size = 128;     // images are resized to this square first
  std::string head = "conv";  // "conv" (1 x 1 convs per cell) or "fc" (the paper's)
  int hidden = 256;         // the head's hidden layer (the paper's first FC layer: 4096)
  float dropout = 0.5f;     // after it, fc head only (the paper: 0.5)
  int classes() const { return num_classes; }
  int depth() const { return 5 * boxes + num_classes; }  // values per cell
  // 2x poolings in the neck: the map (input_size / 4 on a side) is halved while it stays
  // at least S wide; an S that is not reached exactly is then average-pooled to S x S.
  int neck_poolings() const;
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static YoloConfig from_json(const std::string& json);  // throws std::invalid_argument
};

// One predictor's box as the output holds it, decoded: cell (row, col), predictor b.
struct YoloBox {
  Box box;            // xyxy in the pixels of a width x height image
  float confidence;   // the raw output
};

// The output [S, S, 5B + C] of one image -> box b of cell (row, col) in pixels:
// centre ((col + x) / S * width, (row + y) / S * height), size (sqrt_w^2 * width,
// sqrt_h^2 * height). `out` points at the image's first value.
YoloBox decode_yolo_box(const float* out, const YoloConfig& cfg, int row, int col, int b,
                        int width, int height);

// ---- training targets (§2.2) ----------------------------------------------------------
// One object, assigned to the cell that holds its centre and to that cell's responsible
// predictor.
struct YoloTarget {
  int image = 0;            // in the batch
  int row = 0, col = 0;     // the cell holding the box centre
  int predictor = 0;        // responsible: the highest IoU of its current box with the truth
  int cls = 0;              // 0-based object class
  int object = 0;           // index into the image's ground truth
  float x = 0, y = 0;       // the centre relative to the cell, in [0, 1)
  float sqrt_w = 0, sqrt_h = 0;  // square roots of width / height relative to the image
  float iou = 0;            // IoU of the responsible predictor's box with the truth:
                            // the confidence target Pr(object) * IoU (§2)
};

// Targets of a batch: `out` the network's output values [N, S, S, 5B + C] (the
// responsible predictor depends on the current predictions), boxes/labels the ground
// truth of each image in the pixels of a width x height input.
//   * the cell: column floor(cx / width * S), row floor(cy / height * S) (a centre on the
//     far border belongs to the last cell);
//   * one object per cell (the paper's limit: one class distribution per cell, §2.4);
//     when two centres share a cell, the larger box is kept (ties: the first);
//   * the responsible predictor: the highest IoU of its decoded box with the truth (ties:
//     the lower index); when none overlaps it, the one whose (x, y, sqrt w, sqrt h) is
//     closest to the target's (the released darknet code's rule: otherwise untrained
//     predictors, which overlap nothing, would all go to predictor 0).
// Sorted by image, row, column.
std::vector<YoloTarget> yolo_targets(const Tensor& out, const std::vector<std::vector<Box>>& boxes,
                                     const std::vector<std::vector<int>>& labels,
                                     const YoloConfig& cfg, int width, int height);

struct YoloLossOptions {
  float lambda_coord = 5.0f;   // §2.2: weight of the box coordinates
  float lambda_noobj = 0.5f;   // §2.2: weight of the confidence of boxes with no object
};

// The loss's five terms of eq. 3, each summed over the batch and divided by the images.
struct YoloLoss {
  Var total, xy, wh, object, no_object, classification;
};

// The paper's eq. 3: sum-squared error over the output,
//
//   L = lambda_coord sum_i sum_j 1obj_ij [(x_i - x^_i)^2 + (y_i - y^_i)^2]
//     + lambda_coord sum_i sum_j 1obj_ij [(sqrt w_i - sqrt w^_i)^2 + (sqrt h_i - sqrt h^_i)^2]
//     +              sum_i sum_j 1obj_ij   (C_i - C^_i)^2
//     + lambda_noobj sum_i sum_j 1noobj_ij (C_i - C^_i)^2
//     +              sum_i 1obj_i sum_{c in classes} (p_i(c) - p^_i(c))^2
//
// i runs over the S^2 cells, j over the B predictors; 1obj_ij is 1 when predictor j of
// cell i is responsible for an object (a `target`), 1noobj_ij for every other predictor
// (its target C^ = 0), 1obj_i when an object's centre is in cell i: the class error
// counts only there, and coordinates only for the responsible predictor. C^ of a
// responsible predictor is its IoU with the truth; p^_i(c) is 1 for the object's class,
// 0 for the others.
//
// Normalisation: the paper sums over the batch; darknet divides the step by the batch
// size, so here every term is summed over the batch and divided by the number of images
// N (= out.size(0)): the loss of one average image, whatever the batch size.
// out [N, S, S, 5B + C]. ShapeError when it does not match cfg.
YoloLoss yolo_loss(const Var& out, const std::vector<YoloTarget>& targets, const YoloConfig& cfg,
                   const YoloLossOptions& o = {});

// A training batch: N images resized to input_size, their ground truth in the resized
// pixels. Augmentation (§2.2): each image mirrored with probability 1/2 when `flip`;
// with jitter j > 0, zoomed by 1 +- j and shifted by up to +- j of its size (the paper:
// 20 %), the uncovered border filled with the image's mean colour; an object left less
// than a quarter visible is dropped from the targets.
struct YoloBatch {
  Tensor images;  // [N, 3, input_size, input_size]
  std::vector<std::vector<Box>> boxes;
  std::vector<std::vector<int>> labels;
};
YoloBatch make_yolo_batch(const DetectionDataset& ds, const std::vector<int64_t>& idx,
                          const YoloConfig& cfg, bool flip, float jitter, Rng& rng);

// ---- inference (§2: "class-specific confidence scores") ---------------------------------
struct YoloDetectOptions {
  float threshold = 0.05f;  // lowest class-specific confidence kept (eval's; predict 0.2)
  double nms = 0.5;         // per-class NMS IoU
  int max_detections = 100;
};

struct YoloStageTimes {
  double backbone = 0, head = 0, decode = 0;  // decode: scores, boxes, threshold, NMS
  double total() const { return backbone + head + decode; }
};

class Yolo : public Module {
 public:
  Yolo(const YoloConfig& cfg, Rng& rng);
  // [N, 3, input_size, input_size] normalised images -> [N, S, S, 5B + C].
  Var forward(const Var& x) override { return head_forward(features(x)); }
  Var features(const Var& images);        // the backbone's map, stride 4
  Var head_forward(const Var& features);  // neck + head -> [N, S, S, 5B + C]
  std::string name() const override { return "Yolo"; }

  // The image as the network reads it: resized to input_size, normalised (backbone_input).
  Tensor preprocess(const Image& img) const;
  // One image's output [1, S, S, 5B + C] (no gradient).
  Tensor predict(const Image& img, YoloStageTimes* times = nullptr);
  // Every cell's B boxes scored by Pr(class | object) * confidence for each class, then
  // threshold, clip, per-class NMS, top max_detections (detection/postprocess.h); boxes
  // in the image's own pixels.
  std::vector<Detection> detect(const Image& img, const YoloDetectOptions& o,
                                YoloStageTimes* times = nullptr);

  YoloConfig config;
  std::shared_ptr<Sequential> backbone, neck;
  std::shared_ptr<Conv2d> head_hidden, head;  // "conv" head
  std::shared_ptr<Linear> fc1, fc2;          // "fc" head
  std::shared_ptr<Dropout> drop;
};

// Output values [S, S, 5B + C] of one image (out points at them) -> detections in a
// width x height image, as Yolo::detect makes them.
std::vector<Detection> decode_yolo_output(const float* out, const YoloConfig& cfg, int width,
                                          int height, const YoloDetectOptions& o);

}  // namespace dl::models
