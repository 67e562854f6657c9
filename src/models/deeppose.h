// DeepPose (Toshev & Szegedy, "DeepPose: Human Pose Estimation via Deep Neural
// Networks", CVPR 2014): pose estimation as regression of the K joint coordinates,
// refined by a cascade of regressors that look at ever smaller windows.
//
//   stage 1   whole image (resized to S x S)                 -> 2K numbers = N(y; b0)
//   stage s   window b around joint i of stage s-1's pose    -> 2K numbers; only
//             (side sigma * diam(pose), resized to S_s x S_s)   joint i's pair is used:
//                                                               the displacement N(y_i; b)
//   each stage: [conv3x3 - BN - ReLU - maxpool2] x len(channels) -> flatten -> linear(hidden)
//               -> ReLU -> dropout -> linear(2K)
//
// Coordinates are normalised to a box b = (centre b_c, size b_wh) as in §3:
//   N(y; b) = (y - b_c) / b_wh,   N^-1(u; b) = u * b_wh + b_c,
// so a joint anywhere inside the box is in [-0.5, 0.5]^2. One regressor per refinement
// stage is shared by all joints, as the paper's theta_s (§3.2 eq. 5): it outputs all
// 2K numbers and joint i's window reads the i-th pair.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "models/backbone.h"

namespace dl::models {

struct PoseRegressorConfig {
  int stage = 1;                       // 1: whole image; >= 2: a cascade refinement stage
  int input_size = 64;                 // S: the input is S x S RGB
  std::vector<int> channels = {16, 32, 64, 64};  // one conv block (halving) each
  int hidden = 256;
  int num_joints = 14;
  float dropout = 0.2f;
  // {"arch": "pose_regressor", "stage": s, ...}
  std::string to_json() const;
  // Throws std::invalid_argument ("not a deeppose model (arch 'x')", or "stage 2 model
  // where stage 1 was expected", or sizes out of range). expected_stage 0: any stage.
  static PoseRegressorConfig from_json(const std::string& json, int expected_stage = 0);
};

// The defaults of a refinement stage: 32 x 32 inputs, conv blocks 16-32-64, hidden 128.
// The cascade's gain comes from resolution (§3.2): at sigma 1.5 a window is about 40
// pixels of the 128-pixel image, so 32 inputs see it near full resolution while
// stage 1 sees the whole image at half (64 / 128).
PoseRegressorConfig refinement_config(int stage);

// Every stage of one model file, plus the cascade's window size factor sigma.
struct DeepPoseConfig {
  std::vector<PoseRegressorConfig> stages;  // stages[s-1].stage == s
  float sigma = 2.0f;
  // {"arch": "deeppose", "sigma": ..., "stages": [<pose_regressor>, ...]}
  std::string to_json() const;
  static DeepPoseConfig from_json(const std::string& json);  // throws std::invalid_argument
};

class PoseRegressor : public Module {
 public:
  PoseRegressor(const PoseRegressorConfig& cfg, Rng& rng);
  // [N, 3, S, S] -> [N, 2K]: (x0, y0, x1, y1, ...) normalised to the input's box.
  Var forward(const Var& x) override;
  std::string name() const override { return "PoseRegressor"; }
  PoseRegressorConfig config;
  std::shared_ptr<Sequential> features, fc;
};

// All stages in one module: parameters "stage1.features.0.weight", "stage2.fc.1.bias", ...
class DeepPoseCascade : public Module {
 public:
  DeepPoseCascade(const DeepPoseConfig& cfg, Rng& rng);
  Var forward(const Var& x) override { return (*stages[0])(x); }
  std::string name() const override { return "DeepPoseCascade"; }
  DeepPoseConfig config;
  std::vector<std::shared_ptr<PoseRegressor>> stages;
};

// ---- the cascade's geometry (§3, §3.2) ----------------------------------------------
// A box by centre and size (b_c, b_wh); for a window w = h.
struct PoseBox {
  float cx = 0, cy = 0, w = 1, h = 1;
};
// N(y; b) and N^-1(u; b) for one point.
std::pair<float, float> normalize_point(float x, float y, const PoseBox& b);
std::pair<float, float> denormalize_point(float u, float v, const PoseBox& b);
// diam(y): the torso size of a pose (2K values, the figures' joint order), the mean of
// the two torso diagonals left shoulder - right hip and right shoulder - left hip (the
// paper uses one "distance between opposing joints on the human torso"; the mean is
// steadier when one diagonal is foreshortened). Never below min_size.
float pose_diameter(const std::vector<float>& joints, float min_size = 4.0f);
// The window of stage s >= 2 for joint i: centred on stage s-1's joint, side
// sigma * diam(stage s-1's pose).
PoseBox joint_window(const std::vector<float>& joints, int joint, float sigma);

// The training targets of a window b cut around joint i (stage s >= 2): N(y_i; b) for
// joint i, as in the paper, and, when radius > 0, N(y_k; b) for every other labelled
// joint k that lies in the window's central [-radius, radius]^2. A knee's window often
// also shows the hip or the foot; labelling them too gives the shared regressor
// several examples per crop instead of one, at no extra cost (lesson 02 measures it:
// 7.33 -> 6.86 px at radius 0.3). Test time is unchanged: joint i still reads only
// the i-th pair of its own window.
// keypoints: x, y, v per joint (v = 0: not labelled, never a target). Writes the 2K
// targets and a mask of 1 where a target is set, 0 elsewhere.
void window_targets(const std::vector<float>& keypoints, int joint, const PoseBox& b,
                    float radius, float* target, float* mask);

}  // namespace dl::models
