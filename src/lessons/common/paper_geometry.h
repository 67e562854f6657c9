// The lecture's timing chart at the papers' scale. On detlab's 128x128 scenes R-CNN is
// only a few times slower than Fast R-CNN, because a scene has few pixels and a small
// backbone convolves them (lessons/04). The lecture's 146x comes from the papers'
// geometry: a VOC photo with its shorter side at 600 pixels (Fast R-CNN §4.1), ~2000
// Selective Search proposals in "fast" mode (R-CNN §2.1), R-CNN's crops warped to 224x224,
// and VGG16 (13 convolutions, stride 16, fc6/fc7 of 4096; Simonyan & Zisserman 2015).
//
// time_paper_geometry times each method's inference on one such photo with random
// weights of one shared VGG16 (the cost of a network does not depend on its weights):
//   R-CNN        per proposal: warp to 224, conv1_1..pool5, fc6, fc7 -- timed on a sample
//                of the proposals and multiplied by their number (*extrapolated*)
//   SPP-net      the conv layers once, a {6,3,2,1} pyramid pool per proposal, fc6, fc7
//   Fast R-CNN   the conv layers once, 7x7 RoI pooling per proposal, fc6, fc7
//   Faster R-CNN the conv layers once, the RPN (3x3 conv, 1x1 convs), the proposal
//                layer (top 6000 anchors, NMS 0.7, top 300), RoI pooling, fc6, fc7
// Selective Search is run for real on the photo; the first three methods add its time.
// The per-class box regressors and the class scores are left out: one small matrix each,
// beside fc6's 25088 x 4096.
#pragma once
#include <string>
#include <vector>

#include "image/image.h"

namespace dl::cli {

struct PaperGeometryOptions {
  int shorter_side = 600;   // Fast R-CNN §4.1: single scale, s = 600
  int proposals = 2000;     // Selective Search "fast" mode gives ~2000 (R-CNN §2.1)
  int rpn_proposals = 300;  // Faster R-CNN §4: 300 proposals at test time
  int rcnn_sample = 4;      // R-CNN crops actually run through VGG16
  uint64_t seed = 1;
};

struct PaperGeometryMethod {
  std::string name;
  double proposal_seconds = 0;  // Selective Search, or the RPN + proposal layer
  double network_seconds = 0;   // everything else
  bool extrapolated = false;    // timed on a sample and scaled by the proposal count
  int proposals = 0;
};

struct PaperGeometryTimes {
  int width = 0, height = 0;      // the photo after resizing
  int selective_search_boxes = 0;
  double conv_seconds = 0;        // VGG16's conv layers on the whole photo
  int rcnn_sample = 0;
  std::vector<PaperGeometryMethod> methods;  // R-CNN, SPP-net, Fast R-CNN, Faster R-CNN
};

PaperGeometryTimes time_paper_geometry(const Image& photo, const PaperGeometryOptions& o);

// The table beside the papers' times (or the JSON with --json), OUT/compare_paper_geometry.json
// and OUT/compare_paper_geometry.svg (the lecture's bars). `photo` names the source.
int report_paper_geometry(const PaperGeometryTimes& t, const std::string& photo, bool json,
                          const std::string& out_dir);

}  // namespace dl::cli
