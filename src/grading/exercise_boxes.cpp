// Exercises on boxes: IoU, GIoU, NMS, box coding, anchors, IoU matching.
#include <stdexcept>

#include "detection/anchors.h"
#include "detection/box_coder.h"
#include "detection/boxes.h"
#include "detection/matcher.h"
#include "detection/nms.h"
#include "grading/exercises.h"

namespace dl::grading {
using json = nlohmann::json;

namespace {

BoxCoder coder_from(const json& inputs) {
  BoxCoder coder;
  if (inputs.contains("weights")) {
    const std::vector<float> w = floats_from_json(inputs["weights"], "weights");
    if (w.size() != 4) throw std::invalid_argument("input weights: 4 numbers (wx, wy, ww, wh)");
    coder.wx = w[0], coder.wy = w[1], coder.ww = w[2], coder.wh = w[3];
  }
  return coder;
}

json ints(const std::vector<int>& v) { return json(v); }

json run_iou(const json& in, bool generalized) {
  const std::vector<Box> a = boxes_from_json(input(in, "a"), "a");
  const std::vector<Box> b = boxes_from_json(input(in, "b"), "b");
  const std::vector<float> m = generalized ? generalized_box_iou_matrix(a, b) : box_iou_matrix(a, b);
  return {{generalized ? "giou" : "iou", matrix_to_json(m, a.size(), b.size())}};
}

json run_anchors(const json& in) {
  if (in.contains("levels")) {
    std::vector<AnchorLevel> levels;
    std::vector<GridSize> grids;
    for (const json& l : in["levels"]) {
      levels.push_back({floats_from_json(input(l, "sizes"), "sizes"),
                        floats_from_json(input(l, "aspect_ratios"), "aspect_ratios")});
      grids.push_back({input(l, "grid")[0].get<int>(), input(l, "grid")[1].get<int>()});
    }
    const json& image = input(in, "image_size");
    return {{"anchors", boxes_to_json(multilevel_anchors(levels, grids, image[0].get<int>(),
                                                         image[1].get<int>()))}};
  }
  const std::vector<Box> cell = cell_anchors(floats_from_json(input(in, "sizes"), "sizes"),
                                             floats_from_json(input(in, "aspect_ratios"), "aspect_ratios"));
  json out = {{"cell_anchors", boxes_to_json(cell)}};
  if (in.contains("grid")) {
    const GridSize grid{in["grid"][0].get<int>(), in["grid"][1].get<int>()};
    const json& stride = input(in, "stride");
    out["anchors"] = boxes_to_json(grid_anchors(cell, grid, stride[0].get<int>(), stride[1].get<int>()));
  }
  return out;
}

}  // namespace

void add_box_exercises(std::vector<Exercise>& out) {
  out.push_back({"box_iou", "intersection over union of every pair of boxes",
                 "src/detection/boxes.cpp (box_iou, box_iou_matrix)",
                 [](const json& in, const ExerciseContext&) { return run_iou(in, false); },
                 /*uses*/ {},
                 /*hint*/ "IoU = intersection area / union area. The intersection is the box of the larger"
                          " x1, y1 and the smaller x2, y2 (intersect_boxes, given); box_area (given) "
                          "counts a degenerate box as 0; the union is area a + area b - intersection. "
                          "Return 0 when the union is 0. box_iou_matrix: box_iou of every pair, a's boxes as "
                          "the rows."});
  out.push_back({"generalized_box_iou", "GIoU (Rezatofighi et al. 2019) of every pair of boxes",
                 "src/detection/boxes.cpp (generalized_box_iou)",
                 [](const json& in, const ExerciseContext&) { return run_iou(in, true); },
                 /*uses*/ {},
                 /*hint*/ "GIoU = IoU - (|C| - |A u B|) / |C|, C the smallest box enclosing both "
                          "(Rezatofighi et al. 2019, Algorithm 1): it goes below 0 for boxes far apart. "
                          "When |C| is 0, return the IoU."});
  out.push_back({"nms", "greedy non-maximum suppression: the kept indices",
                 "src/detection/nms.cpp (nms, batched_nms)", [](const json& in, const ExerciseContext&) {
                   const std::vector<Box> boxes = boxes_from_json(input(in, "boxes"), "boxes");
                   const std::vector<float> scores = floats_from_json(input(in, "scores"), "scores");
                   if (in.contains("classes"))
                     return json{{"keep", ints(batched_nms(boxes, scores,
                                                           input(in, "classes").get<std::vector<int>>(),
                                                           input(in, "iou_threshold").get<double>()))}};
                   return json{{"keep", ints(nms(boxes, scores, input(in, "iou_threshold").get<double>()))}};
                 },
                 /*uses*/ {"box_iou"},
                 /*hint*/ "Visit the boxes from the highest score down (the lower index first on ties); "
                          "keep a box unless its IoU with a box already kept is greater than iou_threshold"
                          " (equal does not suppress). Return the kept indices in that order. batched_nms: the "
                          "same, but a box suppresses only boxes of its own class."});
  out.push_back({"box_encode", "regression targets (tx, ty, tw, th) of boxes w.r.t. references",
                 "src/detection/box_coder.cpp (encode_box)", [](const json& in, const ExerciseContext&) {
                   const std::vector<BoxDelta> d =
                       encode_boxes(boxes_from_json(input(in, "targets"), "targets"),
                                    boxes_from_json(input(in, "references"), "references"), coder_from(in));
                   json rows = json::array();
                   for (const BoxDelta& r : d) rows.push_back({number(r[0]), number(r[1]), number(r[2]), number(r[3])});
                   return json{{"deltas", rows}};
                 },
                 /*uses*/ {},
                 /*hint*/ "R-CNN, appendix C: with the centres and sizes of the target g and the reference"
                          " p, tx = wx (gx - px) / pw, ty = wy (gy - py) / ph, tw = ww log(gw / pw), th = "
                          "wh log(gh / ph)."});
  out.push_back({"box_decode", "boxes from regression deltas and references (with the exp clamp)",
                 "src/detection/box_coder.cpp (decode_box)", [](const json& in, const ExerciseContext&) {
                   std::vector<BoxDelta> deltas;
                   for (const json& r : input(in, "deltas")) {
                     const std::vector<float> v = floats_from_json(r, "deltas");
                     if (v.size() != 4) throw std::invalid_argument("input deltas: 4 numbers per row");
                     deltas.push_back({v[0], v[1], v[2], v[3]});
                   }
                   return json{{"boxes", boxes_to_json(decode_boxes(
                                             deltas, boxes_from_json(input(in, "references"), "references"),
                                             coder_from(in)))}};
                 },
                 /*uses*/ {},
                 /*hint*/ "The inverse of encode_box: divide each delta by its weight, clamp dw and dh at "
                          "c.clamp before exp, centre = p's centre + d * p's size, size = p's size * "
                          "exp(d); return the corners."});
  out.push_back({"anchors", "anchor boxes: cell anchors of sizes x ratios, shifted over the grid",
                 "src/detection/anchors.cpp (cell_anchors, grid_anchors)",
                 [](const json& in, const ExerciseContext&) { return run_anchors(in); },
                 /*uses*/ {},
                 /*hint*/ "cell_anchors: for each ratio r (height / width), then each size s, a box of "
                          "width s / sqrt(r) and height s * sqrt(r) centred on 0, corners rounded half to "
                          "even (nearbyint). grid_anchors: the cell's anchors shifted by (x * stride_w, y "
                          "* stride_h) for every cell, row by row."});
  out.push_back({"iou_matching", "assign each anchor/proposal to a ground-truth box by IoU thresholds",
                 "src/detection/matcher.cpp (match_predictions)", [](const json& in, const ExerciseContext&) {
                   Matcher m;
                   m.high_threshold = input(in, "high_threshold").get<float>();
                   m.low_threshold = input(in, "low_threshold").get<float>();
                   m.allow_low_quality_matches = in.value("allow_low_quality_matches", false);
                   return json{{"matches", ints(match_boxes(boxes_from_json(input(in, "ground_truth"), "ground_truth"),
                                                            boxes_from_json(input(in, "predictions"), "predictions"), m))}};
                 },
                 /*uses*/ {"box_iou"},
                 /*hint*/ "Each prediction takes the ground truth of highest quality (IoU): its index when"
                          " >= high_threshold, kBetweenThresholds when >= low_threshold, "
                          "kBelowLowThreshold otherwise. With allow_low_quality_matches, every prediction "
                          "that reaches a ground truth's highest IoU gets its best match back (Faster "
                          "R-CNN, section 3.1.2)."});
}

}  // namespace dl::grading
