// Evaluating a pose estimator's poses on a keypoint dataset, stage by stage (lesson 02's
// `eval`): PCK@0.2, PDJ@0.2, PCP and the pixel error (eval/pose_metrics.h), also split
// by the way the figure faces, and how far each refinement stage moves the joints;
// as a table or as the JSON of `deeppose eval --json`.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "data/keypoint_dataset.h"
#include "eval/pose_metrics.h"

namespace dl {

// PDJ's torso diameter: left shoulder - right hip (DeepPose §6), the figures' joints.
constexpr std::pair<int, int> kFigureTorso = {9, 2};

struct PoseStageScores {
  PoseScore pck, pdj, pcp, error;
  // The same split by the way the figure faces (faces_camera of its labels): a network
  // that cannot tell a back view from a front view swaps left and right on the figures
  // facing away, and their scores fall far below the front views'.
  PoseScore pck_front, error_front, pck_back, error_back;
};

// One stage's poses (2K values each, one per item) against the dataset's labels, as
// the pose metrics take them.
std::vector<PoseSample> pose_samples(const KeypointDataset& ds,
                                     const std::vector<std::vector<float>>& poses);
PoseStageScores score_poses(const KeypointDataset& ds,
                            const std::vector<std::vector<float>>& poses);

// Each refinement stage's move against the previous stage's error (lesson 02): the
// slope over the joints the previous stage had within this many pixels, well inside
// their windows, where a working refiner should come close to 1.
constexpr double kSlopeRadius = 8.0;

struct PoseCascadeEval {
  std::vector<PoseStageScores> stages;
  std::vector<PoseScore> slope;  // slope[s], s >= 1: stage s+1 on stage s (refinement_slope)
  int images = 0, images_front = 0, images_back = 0;
};

// per_stage[s]: the poses after stage s + 1.
PoseCascadeEval evaluate_cascade(const KeypointDataset& ds,
                                 const std::vector<std::vector<std::vector<float>>>& per_stage);

// {"images", "images_front", "images_back", "stages": [{"stage", "pck", ..., "per_joint",
// "pcp_per_limb"}]}; limbs named after joint_names (the figures' limbs).
nlohmann::json pose_eval_json(const PoseCascadeEval& ev,
                              const std::vector<std::string>& joint_names);
// The per-joint table of every stage, the summary lines and what the measures mean.
std::string format_pose_eval(const PoseCascadeEval& ev,
                             const std::vector<std::string>& joint_names);

}  // namespace dl
