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
//
// This file is the whole model, in the order a student reads it: the network and its
// config, the cascade's geometry, the pre-processing (inputs and windows), inference
// (the poses of each stage), and training (the batches of each stage and the L2 loss).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "data/keypoint_dataset.h"
#include "image/image.h"
#include "models/backbone.h"
#include "nn/config_fields.h"

namespace dl::models {

using Pose = std::vector<float>;  // x, y per joint (2K values), pixels

struct PoseRegressorConfig {
  int stage = 1;                       // 1: whole image; >= 2: a cascade refinement stage
  int input_size = 64;                 // S: the input is S x S RGB
  std::vector<int> channels = {16, 32, 64, 64};  // one conv block (halving) each
  int hidden = 256;
  int num_joints = 14;
  float dropout = 0.2f;
  // The fields above, declared once with their ranges (nn/config_fields.h):
  // {"arch": "pose_regressor", "stage": s, ...}
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  // Throws std::invalid_argument ("not a deeppose model (arch 'x')", or "stage 2 model
  // where stage 1 was expected", or sizes out of range). expected_stage 0: any stage.
  static PoseRegressorConfig from_json(const std::string& json, int expected_stage = 0);
};

// The defaults of `deeppose train`'s stage 1: 48 x 48 inputs, conv blocks 16-32-64-128,
// hidden 512, no dropout. 48 px for 12 epochs beat 64 px for 7 (same time): stage 1
// underfits, so more steps at a coarser input win (PCK@0.2 0.846 against 0.782, both at
// lr 6e-3; lesson 02).
PoseRegressorConfig stage1_config();

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
  nn::ConfigFields fields();
  std::string to_json() const { return nn::config_to_json(*this); }
  static DeepPoseConfig from_json(const std::string& json);  // throws std::invalid_argument
};

// `stages` stages: stage 1 as `stage1`, every later stage as `refinement` (its stage
// number set), windows of side sigma * diam.
DeepPoseConfig deeppose_config(int stages, float sigma, const PoseRegressorConfig& stage1,
                               const PoseRegressorConfig& refinement);
// Training on from an existing model (`deeppose train --from`): keeps `old`'s stages in
// cfg except cfg's last stage, which is always trained ("retrain the last stage" or "add a
// stage"), and old's sigma when a kept refinement stage uses it (its windows were trained
// at that size). Returns the number of stages kept.
int keep_stages(DeepPoseConfig& cfg, const DeepPoseConfig& old);

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

// ---- pre-processing -------------------------------------------------------------------
// Pixel normalisation: [0, 1] -> roughly zero mean, unit spread.
constexpr float kPosePixelMean = 0.5f, kPosePixelStd = 0.25f;
// An S x S RGB image -> its [3, S, S] network input at dst; `flip` mirrors it left-right.
void pose_input(const Image& in, float* dst, bool flip);
// Stage 1's box b0: the whole image.
PoseBox image_box(const Image& img);
// Joint i's window resampled to S x S (outside the image: black).
Image window_input(const Image& img, const PoseBox& b, int S);

// ---- inference: stage 1, then each refinement stage ----------------------------------
// Stage 1 on whole images, `batch` images at a time: the poses in pixels.
std::vector<Pose> run_stage1(PoseRegressor& net, const std::vector<const Image*>& images,
                             int batch);
// Stage s >= 2 (§3.2 eq. 5): y_i^s = y_i^{s-1} + N^-1(psi_i(N(x; b)); b) with
// b = (y_i^{s-1}, sigma diam(y^{s-1})): every joint's window in one batch.
std::vector<Pose> refine(PoseRegressor& net, const std::vector<const Image*>& images,
                         const std::vector<Pose>& prev, float sigma, int batch_images);
// The poses after each of the first `upto` stages (puts the model in eval mode).
std::vector<std::vector<Pose>> run_cascade(DeepPoseCascade& model,
                                           const std::vector<const Image*>& images, int upto);
// The same on a dataset's images, in its order.
std::vector<std::vector<Pose>> run_cascade(DeepPoseCascade& model, const KeypointDataset& ds,
                                           int upto);

// ---- training: the batches of each stage and the loss (§3) ---------------------------
struct PoseBatch {
  Tensor x, target, mask;  // [n, 3, S, S], [n, 2K], [n, 2K]
};

// Stage 1 batch of items order[start, start + size): whole images resized to S x S,
// targets N(y; b0); joints with v = 0 masked out. Augmentation (flip_rng set, the
// figures' joints): a mirror with probability 1/2 (left and right joints swap).
PoseBatch stage1_batch(const KeypointDataset& ds, const std::vector<int64_t>& order,
                       int64_t start, int64_t size, int S, const Rng* flip_rng);

// Displacements of the previous stage, y^{s-1}_i - y_i, in units of the window's pose
// diameter (the figures vary in size): their per-joint mean and standard deviation.
struct DisplacementStats {
  std::vector<float> mean, sd;  // 2K each
  double rms() const;           // sqrt(mean of mean^2 + sd^2): the error per axis
  double mean_diameter = 0;     // of the previous stage's poses, pixels
};
DisplacementStats displacement_stats(const KeypointDataset& ds, const std::vector<Pose>& prev);

// A refinement stage's training sample: one joint's window on one image.
struct CropSample {
  int64_t item = 0;
  int joint = 0;
};
// One epoch's (image, joint) pairs: crops_per_image labelled joints of every image.
std::vector<CropSample> epoch_samples(const KeypointDataset& ds, int per_image, const Rng& rng);

// Refinement batch of samples[order[start, start + size)] (§3.2). Half of the windows
// sit on the previous stage's actual prediction, half on a simulated one: the true
// joint plus a displacement drawn from N(mean_i, sd_i) — the paper's augmentation,
// since predictions on the training set are better than on unseen images. The
// targets: the window's own joint plus the labelled joints within `neighbours` of its
// centre (window_targets).
PoseBatch refine_batch(const KeypointDataset& ds, const std::vector<Pose>& prev,
                       const DisplacementStats& st, const std::vector<CropSample>& samples,
                       const std::vector<int64_t>& order, int64_t start, int64_t size, int S,
                       float sigma, float neighbours, const Rng& rng);

// How a stage's training batches are drawn: stage 1's augmentation and the refinement
// stages' windows.
struct StageSampling {
  int crops_per_image = 4;  // joint windows per training image and epoch (stages >= 2)
  float sigma = 1.5f;       // the cascade's window side / predicted torso diameter
  float neighbours = 0.3f;  // window_targets' radius
  bool flip = true;         // stage 1: mirror half of the images
  uint64_t seed = 1;
};

// One stage's training batches, epoch by epoch: stage 1 shuffles the images; a
// refinement stage draws crops_per_image joints of every image (epoch_samples) and
// shuffles those windows, placed around stage s-1's poses `prev` (refine_batch). Epoch
// e's draws come from Rng(seed).fork(1000 s + e), so a model depends only on data and
// flags. Keeps references to `train` and `prev`.
class StageBatches {
 public:
  StageBatches(const KeypointDataset& train, int stage, int input_size,
               const std::vector<Pose>& prev, const StageSampling& sampling);
  int64_t per_epoch() const;  // images (stage 1) or windows in an epoch
  const DisplacementStats& stats() const { return stats_; }  // of `prev` (stages >= 2)
  // Batch `step` (of `size` samples) of `epoch`; the steps of an epoch come in order.
  PoseBatch batch(int epoch, int64_t step, int64_t size);

 private:
  const KeypointDataset& train_;
  const std::vector<Pose>& prev_;
  int stage_, input_size_;
  StageSampling o_;
  DisplacementStats stats_;
  int epoch_ = -1;
  Rng epoch_rng_;
  std::vector<CropSample> samples_;  // this epoch's windows (stages >= 2)
  std::vector<int64_t> order_;       // this epoch's shuffle
};

// The L2 loss of §3 over labelled joints: sum of squared errors / number of joints.
Var masked_l2(const Var& pred, const PoseBatch& b);

}  // namespace dl::models
