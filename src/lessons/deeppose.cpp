// Lesson 02: human pose estimation as regression (Toshev & Szegedy, DeepPose, CVPR
// 2014). Stage 1 regresses the 14 joints' (x, y) from the whole image; every further
// stage crops a window around each joint of the previous stage's pose and regresses
// the joint's displacement inside that window (the cascade, §3.2).
//   bin/deeppose train [--stages S] [--sigma F] [--cascade-epochs E] [--cascade-lr LR]
//                      [--cascade-input PX] [--input PX] [--channels C...] [--hidden H]
//                      [--dropout P] [--neighbours R] [--facing-camera] [--no-flip]
//                      [--from MODEL]   (keep MODEL's stages, retrain/add the last one)
//   bin/deeppose eval              PCK@0.2, PDJ@0.2 per joint, PCP, pixel error, per stage
//                                  (also for the figures facing the camera / facing away)
//   bin/deeppose predict [--stage S] [--names] IMAGE...
//                                  skeleton drawn on the image, joints as JSON, per stage
//   bin/deeppose bench             images/s of each stage
// Data: `bin/datagen figures` train and test directories (see lessons/02).
// Model file: every stage in one checkpoint (parameters "stage1.*", "stage2.*", ...);
// its "config" metadata lists the stages (arch "deeppose" of "pose_regressor"s).
#include <fmt/core.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "data/batching.h"
#include "data/figures.h"
#include "data/keypoint_dataset.h"
#include "eval/pose_metrics.h"
#include "image/draw.h"
#include "image/image.h"
#include "image/transforms.h"
#include "lessons/common/cli.h"
#include "lessons/common/model_file.h"
#include "lessons/common/train_loop.h"
#include "nn/checkpoint.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "models/deeppose.h"
#include "tensor/ops.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;
using Pose = std::vector<float>;  // x, y per joint (2K values), pixels

namespace {

const char* kDefaultModel = "data/models/deeppose.safetensors";
const char* kDefaultData = "data/generated/figures";
const int64_t kTrainCount = 8000, kTestCount = 1000;
// Pixel normalisation: [0, 1] -> roughly zero mean, unit spread.
const float kPixelMean = 0.5f, kPixelStd = 0.25f;
// PDJ's torso diameter: left shoulder - right hip (DeepPose §6).
const std::pair<int, int> kTorso = {9, 2};

struct TrainOptions {
  int stages = 2;
  float sigma = 1.5f;
  // 48 px for 12 epochs beat 64 px for 7 (same time): stage 1 underfits, so more steps
  // at a coarser input win (PCK@0.2 0.846 against 0.782, both at lr 6e-3; lesson 02).
  int input = 48;
  std::vector<int> channels = {16, 32, 64, 128};
  int hidden = 512;
  float dropout = 0.0f;
  int cascade_epochs = -1;
  float cascade_lr = 1e-3f;
  int cascade_input = 32;
  std::vector<int> cascade_channels = models::refinement_config(2).channels;
  int cascade_hidden = models::refinement_config(2).hidden;
  int crops_per_image = 4;
  // Each training window also labels the other joints in its central +-0.3 windows
  // (models::window_targets): 7.33 -> 6.86 px; radius 0.2 / 0.4 / 0.5 gave 7.15 / 7.01 /
  // 7.34 px, 0 (the paper's one joint per window) 7.33 px (lesson 02).
  float neighbours = 0.3f;
  bool flip = true;  // stage 1: mirror half of the images (left and right joints exchanged)
  int64_t limit = 0;
  // Relabel the training figures as if all faced the camera (an observer-centric
  // convention, data/keypoint_dataset.h). Off by default: the figures show which way
  // they face (src/data/figures.h), so the person's own left/right can be learnt.
  bool facing_camera = false;
  std::string from;  // a deeppose model whose stages are kept (trains only the stages after)
};

// ---- inputs -------------------------------------------------------------------------
void to_input(const Image& in, float* dst, bool flip) {
  const int S = in.width;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) {
        const int sx = flip ? S - 1 - x : x;
        const float v = in.pixels[(static_cast<size_t>(y) * S + sx) * 3 + c] / 255.0f;
        dst[(c * S + y) * S + x] = (v - kPixelMean) / kPixelStd;
      }
}

// Stage 1's box b0: the whole image.
models::PoseBox image_box(const Image& img) {
  return {img.width / 2.0f, img.height / 2.0f, float(img.width), float(img.height)};
}

// Joint i's window resampled to S x S (outside the image: black).
Image window_input(const Image& img, const models::PoseBox& b, int S) {
  return warp_region(img, b.cx - b.w / 2, b.cy - b.h / 2, b.cx + b.w / 2, b.cy + b.h / 2, S, S);
}

struct Batch {
  Tensor x, target, mask;  // [n, 3, S, S], [n, 2K], [n, 2K]
};

// Stage 1 batch: whole images, targets N(y; b0); joints with v = 0 masked out.
// Augmentation: a mirror with probability 1/2 (left and right joints swap).
Batch stage1_batch(const KeypointDataset& ds, const std::vector<int64_t>& order, int64_t start,
                   int64_t size, int S, const Rng* flip_rng) {
  const int K = ds.num_joints();
  const int64_t n = std::min<int64_t>(size, static_cast<int64_t>(order.size()) - start);
  Batch b{Tensor({n, 3, S, S}), Tensor({n, 2 * K}), Tensor({n, 2 * K})};
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const KeypointItem& item = ds.items[order[start + i]];
    bool flip = false;
    if (flip_rng && K == kFigureJoints)
      flip = flip_rng->fork(static_cast<uint64_t>(order[start + i])).bernoulli(0.5f);
    to_input(resize_bilinear(item.image, S, S), b.x.data() + i * 3 * S * S, flip);
    const models::PoseBox box = image_box(item.image);
    for (int j = 0; j < K; ++j) {
      const int src = flip ? figure_mirror()[j] : j;
      float x = item.keypoints[3 * src], y = item.keypoints[3 * src + 1];
      const bool labelled = item.keypoints[3 * src + 2] > 0;
      if (flip) x = item.image.width - x;
      auto [u, v] = models::normalize_point(x, y, box);
      b.target[i * 2 * K + 2 * j] = labelled ? u : 0.0f;
      b.target[i * 2 * K + 2 * j + 1] = labelled ? v : 0.0f;
      b.mask[i * 2 * K + 2 * j] = b.mask[i * 2 * K + 2 * j + 1] = labelled ? 1.0f : 0.0f;
    }
  }
  return b;
}

// The L2 loss of §3 over labelled joints: sum of squared errors / number of joints.
Var masked_l2(const Var& pred, const Batch& b) {
  const float count = std::max(1.0f, sum_all(b.mask) / 2.0f);
  Var d = ag::mul(ag::sub(pred, Var(b.target)), Var(b.mask));
  return ag::mul(ag::sum_all(ag::mul(d, d)), 1.0f / count);
}

// ---- inference: stage 1, then each refinement stage -----------------------------------
std::vector<Pose> run_stage1(models::PoseRegressor& net, const std::vector<const Image*>& images,
                             int batch) {
  NoGradGuard no_grad;
  const int S = net.config.input_size, K = net.config.num_joints;
  const int64_t n = static_cast<int64_t>(images.size());
  std::vector<Pose> poses(images.size(), Pose(2 * K));
  for (int64_t s = 0; s < n; s += batch) {
    const int64_t m = std::min<int64_t>(batch, n - s);
    Tensor x({m, 3, S, S});
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < m; ++i)
      to_input(resize_bilinear(*images[s + i], S, S), x.data() + i * 3 * S * S, false);
    Tensor out = net(Var(x)).value();
    for (int64_t i = 0; i < m; ++i) {
      const models::PoseBox box = image_box(*images[s + i]);
      for (int j = 0; j < K; ++j) {
        auto [px, py] = models::denormalize_point(out[i * 2 * K + 2 * j], out[i * 2 * K + 2 * j + 1], box);
        poses[s + i][2 * j] = px;
        poses[s + i][2 * j + 1] = py;
      }
    }
  }
  return poses;
}

// Stage s >= 2 (§3.2 eq. 5): y_i^s = y_i^{s-1} + N^-1(psi_i(N(x; b)); b) with
// b = (y_i^{s-1}, sigma diam(y^{s-1})): every joint's window in one batch.
std::vector<Pose> refine(models::PoseRegressor& net, const std::vector<const Image*>& images,
                         const std::vector<Pose>& prev, float sigma, int batch_images) {
  NoGradGuard no_grad;
  const int S = net.config.input_size, K = net.config.num_joints;
  const int64_t n = static_cast<int64_t>(images.size());
  std::vector<Pose> poses = prev;
  for (int64_t s = 0; s < n; s += batch_images) {
    const int64_t m = std::min<int64_t>(batch_images, n - s);
    Tensor x({m * K, 3, S, S});
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < m * K; ++t) {
      const int64_t i = s + t / K;
      const models::PoseBox b = models::joint_window(prev[i], static_cast<int>(t % K), sigma);
      to_input(window_input(*images[i], b, S), x.data() + t * 3 * S * S, false);
    }
    Tensor out = net(Var(x)).value();
    for (int64_t t = 0; t < m * K; ++t) {
      const int64_t i = s + t / K;
      const int j = static_cast<int>(t % K);
      const models::PoseBox b = models::joint_window(prev[i], j, sigma);
      auto [px, py] = models::denormalize_point(out[t * 2 * K + 2 * j], out[t * 2 * K + 2 * j + 1], b);
      poses[i][2 * j] = px;
      poses[i][2 * j + 1] = py;
    }
  }
  return poses;
}

// The poses after each of the first `upto` stages.
std::vector<std::vector<Pose>> run_cascade(models::DeepPoseCascade& model,
                                           const std::vector<const Image*>& images, int upto) {
  model.eval();
  std::vector<std::vector<Pose>> per_stage;
  per_stage.push_back(run_stage1(*model.stages[0], images, 64));
  for (int s = 1; s < upto; ++s)
    per_stage.push_back(refine(*model.stages[s], images, per_stage.back(), model.config.sigma, 16));
  return per_stage;
}

std::vector<const Image*> image_list(const KeypointDataset& ds) {
  std::vector<const Image*> v;
  for (const auto& item : ds.items) v.push_back(&item.image);
  return v;
}

// ---- training samples of a refinement stage (§3.2) --------------------------------
// Displacements of the previous stage, y^{s-1}_i - y_i, in units of the window's pose
// diameter (the figures vary in size): their per-joint mean and standard deviation.
struct DisplacementStats {
  std::vector<float> mean, sd;  // 2K each
};

DisplacementStats displacement_stats(const KeypointDataset& ds, const std::vector<Pose>& prev) {
  const int K = ds.num_joints();
  std::vector<double> s1(2 * K, 0.0), s2(2 * K, 0.0), cnt(2 * K, 0.0);
  for (size_t i = 0; i < ds.items.size(); ++i) {
    const float diam = models::pose_diameter(prev[i]);
    for (int j = 0; j < K; ++j) {
      if (ds.items[i].keypoints[3 * j + 2] <= 0) continue;
      for (int a = 0; a < 2; ++a) {
        const double d = (prev[i][2 * j + a] - ds.items[i].keypoints[3 * j + a]) / diam;
        s1[2 * j + a] += d;
        s2[2 * j + a] += d * d;
        cnt[2 * j + a] += 1;
      }
    }
  }
  DisplacementStats st{std::vector<float>(2 * K, 0.0f), std::vector<float>(2 * K, 0.1f)};
  for (int k = 0; k < 2 * K; ++k)
    if (cnt[k] > 1) {
      const double m = s1[k] / cnt[k];
      st.mean[k] = static_cast<float>(m);
      st.sd[k] = static_cast<float>(std::sqrt(std::max(0.0, s2[k] / cnt[k] - m * m)));
    }
  return st;
}

struct CropSample {
  int64_t item = 0;
  int joint = 0;
};

// One epoch's (image, joint) pairs: crops_per_image labelled joints of every image.
std::vector<CropSample> epoch_samples(const KeypointDataset& ds, int per_image, const Rng& rng) {
  std::vector<CropSample> out;
  const int K = ds.num_joints();
  for (size_t i = 0; i < ds.items.size(); ++i) {
    std::vector<int> labelled;
    for (int j = 0; j < K; ++j)
      if (ds.items[i].keypoints[3 * j + 2] > 0) labelled.push_back(j);
    Rng r = rng.fork(i);
    for (int k = 0; k < per_image && !labelled.empty(); ++k) {
      const int pick = static_cast<int>(r.below(static_cast<uint32_t>(labelled.size())));
      out.push_back({static_cast<int64_t>(i), labelled[pick]});
      labelled.erase(labelled.begin() + pick);
    }
  }
  return out;
}

// Half of the windows sit on the previous stage's actual prediction, half on a
// simulated one: the true joint plus a displacement drawn from N(mean_i, sd_i) — the
// paper's augmentation, since predictions on the training set are better than on
// unseen images. The targets: the window's own joint plus the labelled joints within
// `neighbours` of its centre (models::window_targets).
Batch refine_batch(const KeypointDataset& ds, const std::vector<Pose>& prev,
                   const DisplacementStats& st, const std::vector<CropSample>& samples,
                   const std::vector<int64_t>& order, int64_t start, int64_t size, int S,
                   float sigma, float neighbours, const Rng& rng) {
  const int K = ds.num_joints();
  const int64_t n = std::min<int64_t>(size, static_cast<int64_t>(order.size()) - start);
  Batch b{Tensor({n, 3, S, S}), Tensor({n, 2 * K}), Tensor({n, 2 * K})};
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < n; ++t) {
    const CropSample& cs = samples[order[start + t]];
    const KeypointItem& item = ds.items[cs.item];
    const int j = cs.joint;
    Rng r = rng.fork(static_cast<uint64_t>(order[start + t]));
    models::PoseBox box = models::joint_window(prev[cs.item], j, sigma);
    const float tx = item.keypoints[3 * j], ty = item.keypoints[3 * j + 1];
    if (r.bernoulli(0.5f)) {
      const float diam = models::pose_diameter(prev[cs.item]);
      box.cx = tx + diam * r.normal(st.mean[2 * j], st.sd[2 * j]);
      box.cy = ty + diam * r.normal(st.mean[2 * j + 1], st.sd[2 * j + 1]);
    }
    to_input(window_input(item.image, box, S), b.x.data() + t * 3 * S * S, false);
    models::window_targets(item.keypoints, j, box, neighbours, b.target.data() + t * 2 * K,
                       b.mask.data() + t * 2 * K);
  }
  return b;
}

// ---- evaluation ------------------------------------------------------------------------
struct StageScores {
  PoseScore pck, pdj, pcp, error;
  // The same split by the way the figure faces (faces_camera of its labels): a network
  // that cannot tell a back view from a front view swaps left and right on the figures
  // facing away, and their scores fall far below the front views'.
  PoseScore pck_front, error_front, pck_back, error_back;
};

// One stage's poses against the dataset's labels, as the pose metrics take them.
std::vector<PoseSample> pose_samples(const KeypointDataset& ds, const std::vector<Pose>& poses) {
  std::vector<PoseSample> samples;
  for (size_t i = 0; i < ds.items.size(); ++i)
    samples.push_back({poses[i], ds.items[i].keypoints, ds.items[i].box});
  return samples;
}

StageScores score(const KeypointDataset& ds, const std::vector<Pose>& poses) {
  const std::vector<PoseSample> samples = pose_samples(ds, poses);
  std::vector<PoseSample> front, back;
  for (size_t i = 0; i < ds.items.size(); ++i) {
    const bool faces = ds.num_joints() != kFigureJoints || faces_camera(ds.items[i].keypoints);
    (faces ? front : back).push_back(samples[i]);
  }
  StageScores s;
  s.pck = pck(samples, 0.2, PckNorm::Box);
  s.pdj = pdj(samples, 0.2, kTorso);
  s.pcp = pcp(samples, figure_limbs(), 0.5);
  s.error = mean_joint_error(samples);
  s.pck_front = pck(front, 0.2, PckNorm::Box);
  s.error_front = mean_joint_error(front);
  s.pck_back = pck(back, 0.2, PckNorm::Box);
  s.error_back = mean_joint_error(back);
  return s;
}

// ---- model files -----------------------------------------------------------------------
std::unique_ptr<models::DeepPoseCascade> load_model(const std::string& path) {
  return cli::load_weights<models::DeepPoseCascade>(
      path, cli::read_model_config_as<models::DeepPoseConfig>(path, "deeppose"));
}

std::vector<std::string> model_joint_names(const std::string& path, int K) {
  return cli::read_model_names(path, "joints", K);
}

std::string split_dir(const cli::CommonArgs& a, const char* split) {
  const std::string dir = (fs::path(a.data.empty() ? kDefaultData : a.data) / split).string();
  if (!fs::exists(dir)) {
    const bool train = split[1] == 'r';
    throw FileError(dir, fmt::format("no such dataset directory; make it with `bin/datagen figures "
                                     "--count {} --seed {} --out {}` (lessons/02)",
                                     train ? kTrainCount : kTestCount, train ? 1 : 2, dir));
  }
  return dir;
}

// ---- train -----------------------------------------------------------------------------
models::DeepPoseConfig model_config(const TrainOptions& t) {
  models::DeepPoseConfig cfg;
  cfg.sigma = t.sigma;
  models::PoseRegressorConfig s1;
  s1.input_size = t.input;
  s1.channels = t.channels;
  s1.hidden = t.hidden;
  s1.dropout = t.dropout;
  cfg.stages.push_back(s1);
  for (int s = 2; s <= t.stages; ++s) {
    cfg.stages.push_back(models::refinement_config(s));
    cfg.stages.back().input_size = t.cascade_input;
    cfg.stages.back().channels = t.cascade_channels;
    cfg.stages.back().hidden = t.cascade_hidden;
  }
  return cfg;
}

int cmd_train(cli::CommonArgs a, const TrainOptions& t) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  if (a.epochs < 0) a.epochs = 12;
  if (a.batch < 0) a.batch = 32;
  if (a.lr < 0) a.lr = 6e-3f;  // 1.5e-3 / 3e-3 / 6e-3 / 1e-2: PCK 0.730 / 0.762 / 0.782 / 0.730 (64 px)
  const int cascade_epochs = t.cascade_epochs >= 0 ? t.cascade_epochs : 3;

  KeypointDataset train = load_keypoint_dataset(split_dir(a, "train"), t.limit);
  KeypointDataset test = load_keypoint_dataset(split_dir(a, "test"));
  const int64_t n = static_cast<int64_t>(train.items.size());
  if (n == 0) throw FileError(train.dir, "the training set has no images");
  if (test.num_joints() != train.num_joints())
    throw FileError(test.dir, "the test set's joints differ from the training set's");
  if (train.num_joints() != kFigureJoints)
    throw FileError(train.dir, fmt::format("expected the {} figure joints, found {}",
                                           kFigureJoints, train.num_joints()));
  if (t.facing_camera)
    for (auto& item : train.items) relabel_facing_camera(item.keypoints);

  models::DeepPoseConfig cfg = model_config(t);
  // --from: keep that model's stages (and its sigma if a kept stage uses it) except the
  // last of --stages, which is always trained: "retrain the last stage" or "add a stage".
  int kept = 0;
  if (!t.from.empty()) {
    models::DeepPoseConfig old;
    try {
      old = models::DeepPoseConfig::from_json(cli::read_model_config(t.from, "deeppose"));
    } catch (const std::invalid_argument& e) {
      throw FileError(t.from, e.what());
    }
    kept = std::min<int>(static_cast<int>(old.stages.size()), t.stages - 1);
    for (int s = 0; s < kept; ++s) cfg.stages[s] = old.stages[s];
    if (kept >= 2) cfg.sigma = old.sigma;  // its windows were trained at that size
  }
  Rng rng(a.seed);
  models::DeepPoseCascade model(cfg, rng);
  for (int s = 1; s <= kept; ++s) {
    const std::string prefix = fmt::format("stage{}.", s);
    nn::load_checkpoint_prefix(t.from, model, prefix, prefix);
  }
  if (!a.quiet) fmt::print(stderr, "model:\n{}", nn::summary(model));

  const auto images_train = image_list(train), images_test = image_list(test);
  std::vector<StageScores> final_scores;
  std::vector<double> stage_seconds;
  std::vector<Pose> prev_train;  // stage s-1's poses on the training set
  const std::string stem =
      (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  const auto t0 = Clock::now();

  for (int s = 1; s <= t.stages; ++s) {
    models::PoseRegressor& net = *model.stages[s - 1];
    const int epochs = s <= kept ? 0 : s == 1 ? a.epochs : cascade_epochs;
    const int S = net.config.input_size;
    DisplacementStats st;
    std::vector<CropSample> samples;
    if (s >= 2) {
      st = displacement_stats(train, prev_train);
      if (!a.quiet) {
        double rms = 0, diam = 0;
        for (size_t k = 0; k < st.mean.size(); ++k)
          rms += st.mean[k] * st.mean[k] + st.sd[k] * st.sd[k];
        for (const auto& p : prev_train) diam += models::pose_diameter(p);
        fmt::print(stderr,
                   "stage {}: stage {}'s training-set error is {:.3f} predicted torso diameters "
                   "(rms per axis); mean predicted diameter {:.1f} px, window {:.1f} px\n",
                   s, s - 1, std::sqrt(rms / st.mean.size()), diam / n, cfg.sigma * diam / n);
      }
    }
    const int64_t per_epoch =
        s == 1 ? n : static_cast<int64_t>(epoch_samples(train, t.crops_per_image, Rng(0)).size());
    const int64_t steps = std::max<int64_t>(1, (per_epoch + a.batch - 1) / a.batch);
    // The refinement nets stall on a flat loss at stage 1's rate (measured): a smaller one.
    const float lr = s == 1 ? a.lr : t.cascade_lr;
    nn::Adam opt = nn::AdamW(net.parameters(), lr, 1e-4f);
    nn::LrSchedule sched;
    sched.kind = nn::LrSchedule::Kind::Cosine;
    sched.base_lr = lr;
    sched.total = static_cast<int>(steps * std::max(1, epochs));
    sched.warmup = static_cast<int>(std::min<int64_t>(50, steps));
    net.train();

    std::vector<int64_t> order;
    Rng epoch_rng;
    auto step = [&](int epoch, int64_t k, int64_t global) {
      if (k == 0) {
        epoch_rng = Rng(a.seed).fork(1000 * s + epoch);
        if (s >= 2) samples = epoch_samples(train, t.crops_per_image, epoch_rng.fork(1));
        Rng shuffle = epoch_rng.fork(2);
        order = shuffled_indices(s == 1 ? n : static_cast<int64_t>(samples.size()), shuffle);
      }
      opt.set_lr(static_cast<float>(sched.at(static_cast<int>(global))));
      const Rng batch_rng = epoch_rng.fork(3);
      Batch b = s == 1 ? stage1_batch(train, order, k * a.batch, a.batch, S,
                                      t.flip ? &batch_rng : nullptr)
                       : refine_batch(train, prev_train, st, samples, order, k * a.batch,
                                      a.batch, S, cfg.sigma, t.neighbours, batch_rng);
      Var loss = masked_l2(net(Var(b.x)), b);
      opt.zero_grad();
      loss.backward();
      opt.step();
      return cli::StepResult{loss.item(), b.x.size(0), -1};
    };
    StageScores last;
    auto epoch_end = [&](cli::EpochLog& log) {
      last = score(test, run_cascade(model, images_test, s).back());
      net.train();
      log.metrics["test_pck"] = last.pck.mean;
      log.metrics["test_pdj"] = last.pdj.mean;
      log.metrics["test_error_px"] = last.error.mean;
      log.metrics["test_error_front_px"] = last.error_front.mean;
      log.metrics["test_error_back_px"] = last.error_back.mean;
    };
    if (!a.quiet) fmt::print(stderr, "stage {}: {} samples/epoch, {} epochs\n", s, per_epoch, epochs);
    const auto ts = Clock::now();
    auto logs = cli::train_loop({epochs, steps, a.quiet}, step, epoch_end,
                                [&](int e) { return sched.at(static_cast<int>(e * steps)); });
    stage_seconds.push_back(
        seconds_since(ts));
    if (epochs == 0) last = score(test, run_cascade(model, images_test, s).back());
    final_scores.push_back(last);
    if (!logs.empty())
      cli::write_training_logs(s == 1 ? stem : fmt::format("{}.stage{}", stem, s), logs,
                               fmt::format("deeppose stage {}", s));
    if (s < t.stages) prev_train = run_cascade(model, images_train, s).back();
  }
  const double seconds = seconds_since(t0);

  json args = {{"epochs", a.epochs},       {"cascade_epochs", cascade_epochs},
               {"batch", a.batch},         {"lr", a.lr},
               {"seed", a.seed},           {"stages", t.stages},
               {"sigma", t.sigma},         {"crops_per_image", t.crops_per_image},
               {"train_images", n},       {"from", t.from},
               {"facing_camera", t.facing_camera}, {"flip", t.flip},
               {"cascade_lr", t.cascade_lr},  {"neighbours", t.neighbours}};
  json per_stage = json::array();
  for (size_t s = 0; s < final_scores.size(); ++s)
    per_stage.push_back({{"stage", s + 1},
                         {"pck", final_scores[s].pck.mean},
                         {"pdj", final_scores[s].pdj.mean},
                         {"pcp", final_scores[s].pcp.mean},
                         {"mean_error_px", final_scores[s].error.mean}});
  nn::save_checkpoint(model_path, model,
                      {{"config", cfg.to_json()},
                       {"joints", json(train.joint_names).dump()},
                       {"train_args", args.dump()},
                       {"test_scores", per_stage.dump()}});
  // Timings stay out of the checkpoint, so a model file depends only on data and flags.
  for (size_t s = 0; s < per_stage.size(); ++s) per_stage[s]["seconds"] = stage_seconds[s];
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path}, {"seconds", seconds}, {"stages", per_stage}})
                           .dump());
  } else {
    for (size_t s = 0; s < final_scores.size(); ++s)
      fmt::print("stage {}: test PCK@0.2 {:.3f}, PDJ@0.2 {:.3f}, PCP {:.3f}, mean error {:.2f} px "
                 "({:.1f} s)\n",
                 s + 1, final_scores[s].pck.mean, final_scores[s].pdj.mean,
                 final_scores[s].pcp.mean, final_scores[s].error.mean, stage_seconds[s]);
    fmt::print("trained in {:.1f} s; saved {} (+ {}.csv/.svg per stage)\n", seconds, model_path,
               stem);
  }
  return 0;
}

// ---- eval ------------------------------------------------------------------------------
int cmd_eval(const cli::CommonArgs& a) {
  const std::string path = a.model.empty() ? kDefaultModel : a.model;
  auto model = load_model(path);
  KeypointDataset test = load_keypoint_dataset(split_dir(a, "test"));
  const int K = model->config.stages[0].num_joints;
  if (test.num_joints() != K)
    throw FileError(test.dir, fmt::format("{} joints, the model has {}", test.num_joints(), K));
  const int S = static_cast<int>(model->stages.size());
  auto poses = run_cascade(*model, image_list(test), S);
  std::vector<StageScores> sc;
  for (const auto& p : poses) sc.push_back(score(test, p));
  // Each refinement stage's move against the previous stage's error (lesson 02): the
  // slope over the joints the previous stage had within kSlopeRadius px, well inside
  // their windows, where a working refiner should come close to 1.
  const double kSlopeRadius = 8.0;
  std::vector<PoseScore> slope(S);
  for (int s = 1; s < S; ++s)
    slope[s] = refinement_slope(pose_samples(test, poses[s - 1]), poses[s], kSlopeRadius);
  const auto& names = test.joint_names;
  const auto& limbs = figure_limbs();
  int n_front = 0;
  for (const auto& item : test.items) n_front += K != kFigureJoints || faces_camera(item.keypoints);
  const int n_back = static_cast<int>(test.items.size()) - n_front;
  if (a.json) {
    json stages = json::array();
    for (int s = 0; s < S; ++s) {
      json pj = json::object(), pl = json::object();
      for (int j = 0; j < K; ++j) {
        pj[names[j]] = {{"pck", sc[s].pck.per_joint[j]},
                        {"pdj", sc[s].pdj.per_joint[j]},
                        {"error_px", sc[s].error.per_joint[j]}};
        if (s > 0) pj[names[j]]["move_slope_within_8px"] = slope[s].per_joint[j];
      }
      for (size_t l = 0; l < limbs.size(); ++l)
        pl[names[limbs[l].first] + "-" + names[limbs[l].second]] = sc[s].pcp.per_joint[l];
      stages.push_back({{"stage", s + 1},
                        {"pck", sc[s].pck.mean},
                        {"pdj", sc[s].pdj.mean},
                        {"pcp", sc[s].pcp.mean},
                        {"mean_error_px", sc[s].error.mean},
                        {"pck_front", sc[s].pck_front.mean},
                        {"mean_error_front_px", sc[s].error_front.mean},
                        {"pck_back", sc[s].pck_back.mean},
                        {"mean_error_back_px", sc[s].error_back.mean},
                        {"per_joint", pj},
                        {"pcp_per_limb", pl}});
      if (s > 0) stages.back()["move_slope_within_8px"] = slope[s].mean;
    }
    fmt::print("{}\n", json({{"images", test.items.size()},
                             {"images_front", n_front},
                             {"images_back", n_back},
                             {"stages", stages}})
                           .dump());
    return 0;
  }
  fmt::print("{:<16}", "joint");
  for (int s = 0; s < S; ++s) fmt::print(" | s{} PCK  PDJ  err px", s + 1);
  fmt::print("\n");
  for (int j = 0; j < K; ++j) {
    fmt::print("{:<16}", names[j]);
    for (int s = 0; s < S; ++s)
      fmt::print(" | {:>6.3f} {:>5.3f} {:>6.2f}", sc[s].pck.per_joint[j], sc[s].pdj.per_joint[j],
                 sc[s].error.per_joint[j]);
    fmt::print("\n");
  }
  fmt::print("{:<16}", "mean");
  for (int s = 0; s < S; ++s)
    fmt::print(" | {:>6.3f} {:>5.3f} {:>6.2f}", sc[s].pck.mean, sc[s].pdj.mean, sc[s].error.mean);
  fmt::print("\n");
  for (int s = 0; s < S; ++s)
    fmt::print("stage {}: PCK@0.2 {:.3f}  PDJ@0.2 {:.3f}  PCP {:.3f}  mean error {:.2f} px\n",
               s + 1, sc[s].pck.mean, sc[s].pdj.mean, sc[s].pcp.mean, sc[s].error.mean);
  for (int s = 0; s < S; ++s)
    fmt::print("stage {}: figures facing the camera ({}): PCK@0.2 {:.3f}  mean error {:.2f} px; "
               "facing away ({}): PCK@0.2 {:.3f}  mean error {:.2f} px\n",
               s + 1, n_front, sc[s].pck_front.mean, sc[s].error_front.mean, n_back,
               sc[s].pck_back.mean, sc[s].error_back.mean);
  for (int s = 1; s < S; ++s)
    fmt::print("stage {}: moves the joints stage {} had within {:.0f} px of the truth {:.2f} of "
               "the way (least-squares slope of its move on their error, {} joints)\n",
               s + 1, s, kSlopeRadius, slope[s].mean, slope[s].counted);
  fmt::print("\n{} test images. PCK@0.2: error <= 0.2 x max(box w, h); PDJ@0.2: error < 0.2 x "
             "torso (left shoulder - right hip); PCP: both limb ends within half the limb "
             "length. Left/right are the figure's own: a figure facing away has its right on "
             "the image's right; only its face (or the back of its head) says so "
             "(src/data/figures.h)\n",
             test.items.size());
  return 0;
}

// ---- predict ---------------------------------------------------------------------------
// Limbs in the figure's right side in one colour, left side in another, the centre
// (hips, shoulders to neck, head) in a third, as pose papers draw them.
void draw_pose(Image& canvas, const Pose& pose, float scale, const std::vector<std::string>& names,
               bool with_names) {
  auto side = [](int j) { return j == 12 || j == 13 ? 0 : ((j <= 2 || (j >= 6 && j <= 8)) ? 1 : 2); };
  const Color colors[3] = {{255, 220, 0}, {255, 64, 64}, {64, 160, 255}};  // centre, right, left
  const float thick = std::max(2.0f, canvas.width / 150.0f);
  for (const auto& [p, q] : figure_limbs()) {
    const int sp = side(p), sq = side(q);
    const Color c = colors[sp == sq ? sp : 0];
    draw_line(canvas, pose[2 * p] * scale - 0.5f, pose[2 * p + 1] * scale - 0.5f,
              pose[2 * q] * scale - 0.5f, pose[2 * q + 1] * scale - 0.5f, c, thick);
  }
  for (size_t j = 0; j < pose.size() / 2; ++j)
    fill_circle(canvas, pose[2 * j] * scale - 0.5f, pose[2 * j + 1] * scale - 0.5f, thick * 1.2f,
                colors[side(static_cast<int>(j))]);
  if (with_names)
    for (size_t j = 0; j < pose.size() / 2; ++j)
      draw_text(canvas, static_cast<int>(pose[2 * j] * scale) + 4,
                static_cast<int>(pose[2 * j + 1] * scale) - 4, names[j], {255, 255, 255},
                {0, 0, 0});
}

int cmd_predict(const cli::CommonArgs& a, const std::vector<std::string>& images, bool with_names,
                int draw_stage) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  auto model = load_model(model_path);
  const int K = model->config.stages[0].num_joints;
  const int stages = static_cast<int>(model->stages.size());
  if (draw_stage > stages)
    throw FileError(model_path, fmt::format("--stage {}: the model has {} stage(s)", draw_stage,
                                            stages));
  const int drawn = draw_stage > 0 ? draw_stage : stages;
  const auto names = model_joint_names(model_path, K);
  const std::string out_dir = cli::predictions_dir(a);
  json all = json::array();
  for (const auto& path : images) {
    const Image img = load_image(path, 3);
    auto poses = run_cascade(*model, {&img}, static_cast<int>(model->stages.size()));
    // Small images are enlarged so that the skeleton and names stay readable.
    const int factor = std::max(1, 384 / std::max(img.width, img.height));
    Image canvas = factor > 1 ? resize_bilinear(img, img.width * factor, img.height * factor) : img;
    draw_pose(canvas, poses[drawn - 1][0], static_cast<float>(factor), names, with_names);
    fs::create_directories(out_dir);
    const std::string suffix = draw_stage > 0 ? fmt::format(".stage{}", drawn) : "";
    const std::string out_path =
        (fs::path(out_dir) / (fs::path(path).stem().string() + ".deeppose" + suffix + ".png"))
            .string();
    save_image(out_path, canvas);
    json stages = json::array();
    for (size_t s = 0; s < poses.size(); ++s) {
      json joints = json::array();
      for (int j = 0; j < K; ++j)
        joints.push_back({{"name", names[j]}, {"x", poses[s][0][2 * j]}, {"y", poses[s][0][2 * j + 1]}});
      stages.push_back({{"stage", s + 1}, {"joints", joints}});
    }
    all.push_back({{"image", path}, {"width", img.width}, {"height", img.height},
                   {"stages", stages}, {"annotated", out_path}});
    if (!a.json) {
      fmt::print("{}: {} stages -> {}\n", path, poses.size(), out_path);
      for (int j = 0; j < K; ++j)
        fmt::print("  {:<15} ({:6.1f}, {:6.1f})\n", names[j], poses[drawn - 1][0][2 * j],
                   poses[drawn - 1][0][2 * j + 1]);
    }
  }
  if (a.json) fmt::print("{}\n", all.dump());
  return 0;
}

// ---- bench -----------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const TrainOptions& t) {
  Rng rng(a.seed);
  const models::DeepPoseConfig cfg = model_config(t);
  models::DeepPoseCascade model(cfg, rng);
  model.eval();
  const int batch = a.batch > 0 ? a.batch : 32;
  std::vector<Image> imgs(batch, Image(128, 128, 3));
  for (auto& im : imgs)
    for (auto& px : im.pixels) px = static_cast<uint8_t>(rng.below(256));
  std::vector<const Image*> ptrs;
  for (auto& im : imgs) ptrs.push_back(&im);
  // Plausible poses for the windows: the figures' mean layout is not needed for timing.
  std::vector<Pose> poses(batch, Pose(2 * kFigureJoints));
  for (auto& p : poses)
    for (auto& v : p) v = rng.uniform(20.0f, 108.0f);
  json results = json::array();
  for (int s = 1; s <= t.stages; ++s) {
    const double ips = cli::items_per_second(
        [&] {
          if (s == 1)
            run_stage1(*model.stages[0], ptrs, batch);
          else
            refine(*model.stages[s - 1], ptrs, poses, cfg.sigma, batch);
        },
        batch);
    results.push_back({{"stage", s}, {"images_per_s", ips}, {"batch", batch}});
    if (!a.json)
      fmt::print("stage {}: {:>7.0f} images/s (batch {}, {})\n", s, ips, batch,
                 s == 1 ? "whole 128x128 image" : "14 joint windows per image");
  }
  if (a.json) fmt::print("{}\n", results.dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"deeppose: 14 joints as regression, refined by a cascade (lesson 02)"};
  app.require_one_subcommand();
  cli::CommonArgs args;
  TrainOptions topt;
  bool names = false;
  std::vector<std::string> images;

  cli::Command train = app.subcommand("train", "train stage 1, then each cascade stage, and save");
  cli::add_common_flags(train, args);
  train.option("--stages", topt.stages, "number of stages (1 = no cascade)")
      .range(1, 6);
  train.option("--sigma", topt.sigma, "cascade window side / predicted torso diameter")
      .range(0.1f, 10.0f);
  train.option("--input", topt.input, "stage 1 input size in pixels (multiple of 16)")
      .range(16, 512);
  train.option("--channels", topt.channels, "stage 1 conv blocks' channels (each halves the size)")
      .expected(1, 8).range(1, 1024);
  train.option("--hidden", topt.hidden, "stage 1 hidden fully connected units")
      .range(1, 65536);
  train.option("--dropout", topt.dropout, "stage 1 dropout before the last layer")
      .range(0.0f, 0.9f);
  train.option("--cascade-epochs", topt.cascade_epochs, "epochs of each stage >= 2")
      .range(0, 1000);
  train.option("--cascade-input", topt.cascade_input,
               "window size in pixels of each stage >= 2 (multiple of 8)")
      .range(8, 256);
  train.option("--cascade-channels", topt.cascade_channels,
               "conv blocks' channels of each stage >= 2 (each halves the window)")
      .expected(1, 8).range(1, 1024);
  train.option("--cascade-hidden", topt.cascade_hidden,
               "hidden fully connected units of each stage >= 2")
      .range(1, 65536);
  train.option("--cascade-lr", topt.cascade_lr, "Adam learning rate of each stage >= 2")
      .range(1e-7f, 1.0f);
  train.option("--crops-per-image", topt.crops_per_image,
               "joint windows per training image and epoch (stages >= 2)")
      .range(1, kFigureJoints);
  train.option("--neighbours", topt.neighbours,
               "stages >= 2: a window also trains on the other joints within this many "
               "window sides of its centre (0: its own joint only, as the paper)")
      .range(0.0f, 0.5f);
  train.flag("--facing-camera", topt.facing_camera,
             "relabel the training figures as if all faced the camera (default: their own "
             "left/right)");
  bool no_flip = false;
  train.flag("--no-flip", no_flip, "stage 1 without mirrored training images");
  train.option("--from", topt.from, "keep this deeppose model's stages before the last of --stages");
  train.option("--limit", topt.limit, "train on this many images only")
      .range(int64_t(1), int64_t(10000000));
  cli::Command eval = app.subcommand("eval", "PCK, PDJ, PCP and pixel error per stage");
  cli::add_common_flags(eval, args);
  cli::Command predict = app.subcommand("predict", "draw the predicted skeleton on images");
  cli::add_common_flags(predict, args);
  predict.option("images", images, "PNG/JPEG/BMP files").required();
  predict.flag("--names", names, "write the joint names next to the joints");
  int draw_stage = 0;
  predict.option("--stage", draw_stage, "draw this stage's pose (default: the last)")
      .range(1, 16);
  cli::Command bench = app.subcommand("bench", "images/s of each stage");
  cli::add_common_flags(bench, args);
  bench.option("--stages", topt.stages, "number of stages").range(1, 6);

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  topt.flip = !no_flip;
  if (train && topt.input % (1 << topt.channels.size()) != 0) {
    fmt::print(stderr, "error: --input must be a multiple of 2^(number of --channels)\n");
    return 2;
  }
  if (train && topt.cascade_input % (1 << topt.cascade_channels.size()) != 0) {
    fmt::print(stderr, "error: --cascade-input must be a multiple of 2^(number of --cascade-channels)\n");
    return 2;
  }
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt);
    if (eval) return cmd_eval(args);
    if (predict) return cmd_predict(args, images, names, draw_stage);
    return cmd_bench(args, topt);
  });
}
