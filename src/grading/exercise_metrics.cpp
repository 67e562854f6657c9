// Exercises on evaluation metrics: PCK for poses, VOC and COCO average precision.
#include <stdexcept>

#include <filesystem>

#include "data/coco.h"
#include "eval/coco_eval.h"
#include "eval/pose_metrics.h"
#include "grading/child_process.h"
#include "util/files.h"
#include "eval/voc_ap.h"
#include "grading/exercises.h"

namespace dl::grading {
using json = nlohmann::json;

namespace {

std::vector<double> doubles(const json& v, const char* name) {
  floats_from_json(v, name);  // checks the type
  std::vector<double> out;
  for (const json& e : v) out.push_back(e.get<double>());
  return out;
}

VocApMethod method_from(const json& in) {
  const std::string m = in.value("method", std::string("all_points"));
  if (m == "11point") return VocApMethod::ElevenPoint;
  if (m == "all_points") return VocApMethod::AllPoints;
  throw std::invalid_argument("input method: \"11point\" or \"all_points\", got \"" + m + "\"");
}

Box one_box(const json& v, const char* name) {
  const std::vector<float> c = floats_from_json(v, name);
  if (c.size() != 4) throw std::invalid_argument(std::string("input ") + name + ": 4 numbers");
  return {c[0], c[1], c[2], c[3]};
}

json doubles_to_json(const std::vector<double>& v) {
  json out = json::array();
  for (double x : v) out.push_back(number(x));
  return out;
}

// ground_truth: a COCO annotation object; results: a COCO results array (read
// through the library's own readers, so areas and masks follow pycocotools).
json run_coco_ap(const json& in) {
  const CocoDataset gt = parse_coco(input(in, "ground_truth").dump(), "ground_truth");
  const std::string dir = make_temp_dir("grade_coco");  // small; removed below
  std::vector<CocoAnnotation> results;
  try {
    write_file_atomic(dir + "/results.json", input(in, "results").dump());
    results = read_coco_results(dir + "/results.json");
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  const std::string type = in.value("iou_type", std::string("bbox"));
  if (type != "bbox" && type != "segm") throw std::invalid_argument("input iou_type: \"bbox\" or \"segm\"");
  const CocoEvalResult r = coco_evaluate(gt, results, type == "bbox" ? CocoIouType::BBox : CocoIouType::Segm);
  return {{"stats", doubles_to_json(std::vector<double>(r.stats.begin(), r.stats.end()))},
          {"category_ids", r.category_ids},
          {"class_ap", doubles_to_json(r.class_ap)},
          {"class_ap50", doubles_to_json(r.class_ap50)}};
}

json score_to_json(const PoseScore& s) {
  json per = json::array();
  for (double v : s.per_joint) per.push_back(number(v));
  return {{"mean", number(s.mean)}, {"per_joint", per}, {"counted", s.counted}};
}

}  // namespace

void add_metric_exercises(std::vector<Exercise>& out) {
  out.push_back({"pck", "percentage of correct keypoints: error <= alpha * (box size or torso)",
                 "src/eval/pose_metrics.cpp (pck)", [](const json& in, const ExerciseContext&) {
                   std::vector<PoseSample> samples;
                   for (const json& s : input(in, "samples")) {
                     PoseSample p;
                     p.predicted = floats_from_json(input(s, "predicted"), "predicted");
                     p.ground_truth = floats_from_json(input(s, "ground_truth"), "ground_truth");
                     if (s.contains("box")) p.box = one_box(s["box"], "box");
                     samples.push_back(std::move(p));
                   }
                   const std::string norm = in.value("norm", std::string("box"));
                   if (norm != "box" && norm != "torso")
                     throw std::invalid_argument("input norm: \"box\" or \"torso\"");
                   std::pair<int, int> torso{-1, -1};
                   if (in.contains("torso")) torso = {in["torso"][0].get<int>(), in["torso"][1].get<int>()};
                   return score_to_json(pck(samples, input(in, "alpha").get<double>(),
                                            norm == "box" ? PckNorm::Box : PckNorm::Torso, torso));
                 },
                 /*uses*/ {},
                 /*hint*/ "A joint is correct when its distance to the truth is <= alpha * the normaliser "
                          "(the box's larger side, or the torso diameter); joints that are not visible do "
                          "not count. Return the rate per joint and overall."});
  out.push_back({"voc_ap", "average precision of a precision/recall curve (11-point or all points)",
                 "src/eval/voc_ap.cpp (voc_ap_11point, voc_ap_all_points)",
                 [](const json& in, const ExerciseContext&) {
                   return json{{"ap", number(voc_ap(doubles(input(in, "recall"), "recall"),
                                                    doubles(input(in, "precision"), "precision"),
                                                    method_from(in)))}};
                 },
                 /*uses*/ {},
                 /*hint*/ "11-point: the mean over recall t = 0, 0.1, ..., 1 of the highest precision at "
                          "recall >= t (0 if none). All points: add (recall 0, precision 0) and (recall 1,"
                          " precision 0), make precision non-increasing from the right, then sum (r[i+1] -"
                          " r[i]) * p[i+1]."});
  out.push_back({"voc_evaluate_class", "VOC AP of one class: rank detections, match at IoU > 0.5",
                 "src/eval/voc_ap.cpp (voc_evaluate_class)", [](const json& in, const ExerciseContext&) {
                   std::vector<VocDetection> dets;
                   for (const json& d : input(in, "detections"))
                     dets.push_back({input(d, "image").get<int64_t>(), one_box(input(d, "box"), "box"),
                                     input(d, "score").get<float>()});
                   std::vector<VocGroundTruth> gts;
                   for (const json& g : input(in, "ground_truth"))
                     gts.push_back({input(g, "image").get<int64_t>(), one_box(input(g, "box"), "box"),
                                    g.value("difficult", false)});
                   const VocClassResult r = voc_evaluate_class(dets, gts, in.value("iou_threshold", 0.5f),
                                                               method_from(in));
                   return json{{"ap", number(r.ap)}, {"tp", r.tp}, {"fp", r.fp}, {"num_gt", r.num_gt}};
                 },
                 /*uses*/ {"box_iou", "voc_ap"},
                 /*hint*/ "Rank the detections by score; a detection is a true positive when the ground "
                          "truth of its image with the highest IoU has IoU > iou_threshold and is not "
                          "taken yet, otherwise a false positive; a match with a difficult object counts "
                          "neither way, and difficult objects are not in the recall's total. Cumulative TP"
                          " / FP give precision and recall, then voc_ap."});
  out.push_back({"coco_ap", "COCO AP@[.5:.95], AP50, AP75, APs/m/l and AR (the 12 COCOeval stats)",
                 "src/eval/coco_eval.cpp (coco_evaluate)",
                 [](const json& in, const ExerciseContext&) { return run_coco_ap(in); },
                 /*uses*/ {},
                 /*hint*/ "COCOeval: per image and category, detections by score take the unmatched ground"
                          " truth of highest IoU at each threshold .50:.05:.95 (crowd and "
                          "out-of-range-area objects are ignored, not missed); precision is interpolated "
                          "at 101 recall points and averaged over categories; AP is the mean over "
                          "thresholds."});
}

}  // namespace dl::grading
