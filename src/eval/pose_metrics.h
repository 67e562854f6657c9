// Pose estimation scores for single-person joint predictions (DeepPose's setting:
// Toshev & Szegedy 2014, §6 "Metrics").
//  - PCK@a (Yang & Ramanan 2013): a joint is correct when its error is <= a * scale,
//    scale being the person's box size max(w, h) or the torso diameter.
//  - PDJ (DeepPose §6): a joint is detected when its error is < f * torso diameter,
//    the torso diameter being the distance between opposite torso joints (e.g. left
//    shoulder and right hip); reported as a curve over f.
//  - PCP (Ferrari et al. 2008): a limb is correct when both predicted endpoints lie
//    within half the ground-truth limb length of their true positions.
//  - mean error per joint, in pixels.
// Joints with visibility v = 0 (not labelled) in the ground truth are left out
// everywhere; so is a sample's torso-normalised score when a torso joint is
// unlabelled or the torso has length 0.
#pragma once
#include <utility>
#include <vector>

#include "detection/boxes.h"

namespace dl {

struct PoseSample {
  std::vector<float> predicted;     // x, y per joint (2K values)
  std::vector<float> ground_truth;  // x, y, v per joint (3K values, COCO layout)
  // The person's box for box-normalised PCK; when degenerate, the tight box of the
  // labelled ground-truth joints is used.
  Box box;
};

struct PoseScore {
  double mean = 0;                // over all counted joints (or limbs); NaN if none
  std::vector<double> per_joint;  // per joint (or limb); NaN where nothing was counted
  int counted = 0;                // joints (or limbs) that entered the mean
};

enum class PckNorm { Box, Torso };

// torso = (a, b): 0-based joint indices whose distance is the torso diameter (only
// used with PckNorm::Torso). Throws std::invalid_argument when a sample's sizes do
// not match (2K predicted, 3K ground truth, same K for every sample) or an index is
// out of range.
PoseScore pck(const std::vector<PoseSample>& samples, double alpha, PckNorm norm,
              std::pair<int, int> torso = {-1, -1});
PoseScore pdj(const std::vector<PoseSample>& samples, double fraction, std::pair<int, int> torso);
// PDJ at each fraction (DeepPose's Fig. 4 curves): the overall means.
std::vector<double> pdj_curve(const std::vector<PoseSample>& samples,
                              const std::vector<double>& fractions, std::pair<int, int> torso);
// limbs: pairs of 0-based joint indices; per_joint holds one entry per limb.
PoseScore pcp(const std::vector<PoseSample>& samples,
              const std::vector<std::pair<int, int>>& limbs, double fraction = 0.5);
// Euclidean error per joint; mean is over all counted joints.
PoseScore mean_joint_error(const std::vector<PoseSample>& samples);

// How far a refinement stage moves the joints compared with how far they were off
// (lesson 02): with d = truth - before (the previous stage's error) and c = after -
// before (this stage's move), the least-squares slope of c on d, sum(d . c) / sum(d . d),
// over labelled joints with |d| < max_error pixels. 1: every joint moved exactly onto
// the truth; 0: nothing moved (or moves unrelated to the error); per_joint per joint.
// `before` holds the previous stage's poses as `predicted`; `after` (2K values each,
// one per sample) this stage's. NaN where no joint was counted or all d are 0.
PoseScore refinement_slope(const std::vector<PoseSample>& before,
                           const std::vector<std::vector<float>>& after, double max_error);

}  // namespace dl
