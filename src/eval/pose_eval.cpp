#include "eval/pose_eval.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <iterator>

#include "data/figures.h"

namespace dl {

using json = nlohmann::json;

std::vector<PoseSample> pose_samples(const KeypointDataset& ds,
                                     const std::vector<std::vector<float>>& poses) {
  std::vector<PoseSample> samples;
  for (size_t i = 0; i < ds.items.size(); ++i)
    samples.push_back({poses[i], ds.items[i].keypoints, ds.items[i].box});
  return samples;
}

PoseStageScores score_poses(const KeypointDataset& ds,
                            const std::vector<std::vector<float>>& poses) {
  const std::vector<PoseSample> samples = pose_samples(ds, poses);
  std::vector<PoseSample> front, back;
  for (size_t i = 0; i < ds.items.size(); ++i) {
    const bool faces = ds.num_joints() != kFigureJoints || faces_camera(ds.items[i].keypoints);
    (faces ? front : back).push_back(samples[i]);
  }
  PoseStageScores s;
  s.pck = pck(samples, 0.2, PckNorm::Box);
  s.pdj = pdj(samples, 0.2, kFigureTorso);
  s.pcp = pcp(samples, figure_limbs(), 0.5);
  s.error = mean_joint_error(samples);
  s.pck_front = pck(front, 0.2, PckNorm::Box);
  s.error_front = mean_joint_error(front);
  s.pck_back = pck(back, 0.2, PckNorm::Box);
  s.error_back = mean_joint_error(back);
  return s;
}

PoseCascadeEval evaluate_cascade(const KeypointDataset& ds,
                                 const std::vector<std::vector<std::vector<float>>>& per_stage) {
  PoseCascadeEval ev;
  const int S = static_cast<int>(per_stage.size());
  for (const auto& p : per_stage) ev.stages.push_back(score_poses(ds, p));
  ev.slope.resize(S);
  for (int s = 1; s < S; ++s)
    ev.slope[s] = refinement_slope(pose_samples(ds, per_stage[s - 1]), per_stage[s], kSlopeRadius);
  const int K = ds.num_joints();
  for (const auto& item : ds.items)
    ev.images_front += K != kFigureJoints || faces_camera(item.keypoints);
  ev.images = static_cast<int>(ds.items.size());
  ev.images_back = ev.images - ev.images_front;
  return ev;
}

json pose_eval_json(const PoseCascadeEval& ev, const std::vector<std::string>& names) {
  const auto& limbs = figure_limbs();
  const int K = static_cast<int>(names.size());
  json stages = json::array();
  for (size_t s = 0; s < ev.stages.size(); ++s) {
    const PoseStageScores& sc = ev.stages[s];
    json pj = json::object(), pl = json::object();
    for (int j = 0; j < K; ++j) {
      pj[names[j]] = {{"pck", sc.pck.per_joint[j]},
                      {"pdj", sc.pdj.per_joint[j]},
                      {"error_px", sc.error.per_joint[j]}};
      if (s > 0) pj[names[j]]["move_slope_within_8px"] = ev.slope[s].per_joint[j];
    }
    for (size_t l = 0; l < limbs.size(); ++l)
      pl[names[limbs[l].first] + "-" + names[limbs[l].second]] = sc.pcp.per_joint[l];
    stages.push_back({{"stage", s + 1},
                      {"pck", sc.pck.mean},
                      {"pdj", sc.pdj.mean},
                      {"pcp", sc.pcp.mean},
                      {"mean_error_px", sc.error.mean},
                      {"pck_front", sc.pck_front.mean},
                      {"mean_error_front_px", sc.error_front.mean},
                      {"pck_back", sc.pck_back.mean},
                      {"mean_error_back_px", sc.error_back.mean},
                      {"per_joint", pj},
                      {"pcp_per_limb", pl}});
    if (s > 0) stages.back()["move_slope_within_8px"] = ev.slope[s].mean;
  }
  return {{"images", ev.images},
          {"images_front", ev.images_front},
          {"images_back", ev.images_back},
          {"stages", stages}};
}

std::string format_pose_eval(const PoseCascadeEval& ev, const std::vector<std::string>& names) {
  const auto& sc = ev.stages;
  const int S = static_cast<int>(sc.size()), K = static_cast<int>(names.size());
  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "{:<16}", "joint");
  for (int s = 0; s < S; ++s) fmt::format_to(o, " | s{} PCK  PDJ  err px", s + 1);
  fmt::format_to(o, "\n");
  for (int j = 0; j < K; ++j) {
    fmt::format_to(o, "{:<16}", names[j]);
    for (int s = 0; s < S; ++s)
      fmt::format_to(o, " | {:>6.3f} {:>5.3f} {:>6.2f}", sc[s].pck.per_joint[j],
                     sc[s].pdj.per_joint[j], sc[s].error.per_joint[j]);
    fmt::format_to(o, "\n");
  }
  fmt::format_to(o, "{:<16}", "mean");
  for (int s = 0; s < S; ++s)
    fmt::format_to(o, " | {:>6.3f} {:>5.3f} {:>6.2f}", sc[s].pck.mean, sc[s].pdj.mean,
                   sc[s].error.mean);
  fmt::format_to(o, "\n");
  for (int s = 0; s < S; ++s)
    fmt::format_to(o, "stage {}: PCK@0.2 {:.3f}  PDJ@0.2 {:.3f}  PCP {:.3f}  mean error {:.2f} px\n",
                   s + 1, sc[s].pck.mean, sc[s].pdj.mean, sc[s].pcp.mean, sc[s].error.mean);
  for (int s = 0; s < S; ++s)
    fmt::format_to(o,
                   "stage {}: figures facing the camera ({}): PCK@0.2 {:.3f}  mean error {:.2f} "
                   "px; facing away ({}): PCK@0.2 {:.3f}  mean error {:.2f} px\n",
                   s + 1, ev.images_front, sc[s].pck_front.mean, sc[s].error_front.mean,
                   ev.images_back, sc[s].pck_back.mean, sc[s].error_back.mean);
  for (int s = 1; s < S; ++s)
    fmt::format_to(o,
                   "stage {}: moves the joints stage {} had within {:.0f} px of the truth {:.2f} "
                   "of the way (least-squares slope of its move on their error, {} joints)\n",
                   s + 1, s, kSlopeRadius, ev.slope[s].mean, ev.slope[s].counted);
  fmt::format_to(o,
                 "\n{} test images. PCK@0.2: error <= 0.2 x max(box w, h); PDJ@0.2: error < 0.2 "
                 "x torso (left shoulder - right hip); PCP: both limb ends within half the limb "
                 "length. Left/right are the figure's own: a figure facing away has its right "
                 "on the image's right; only its face (or the back of its head) says so "
                 "(src/data/figures.h)\n",
                 ev.images);
  return out;
}

}  // namespace dl
