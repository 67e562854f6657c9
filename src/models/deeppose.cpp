#include "models/deeppose.h"

#include <fmt/core.h>

#include <cmath>

#include "autograd/ops.h"
#include "data/batching.h"
#include "data/figures.h"
#include "image/transforms.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"

namespace dl::models {

// Ranges: what `deeppose train` can ask for (--input 16..512, --cascade-input 8..256, 1 to
// 8 --channels up to 1024, --hidden up to 65536, --dropout 0..0.9, --stages 1..6).
nn::ConfigFields PoseRegressorConfig::fields() {
  nn::ConfigFields f("pose_regressor", "a deeppose model");
  f.field("stage", stage, 1, 16);
  f.field("input_size", input_size, 8, 1024);  // and divisible by 2^blocks: check_stage
  f.field("channels", channels, 1, 4096).length(1, 8);
  f.field("hidden", hidden, 1, 65536);
  f.field("num_joints", num_joints, 1, 1000);
  f.field("dropout", dropout, 0.0f, 0.99f);
  return f;
}

namespace {

// What a stage's fields cannot check one by one: it is the stage expected (0: any), and
// every conv block halves its input exactly. `name` is the stage's place in messages.
void check_stage(const PoseRegressorConfig& c, int expected_stage, const std::string& name) {
  if (expected_stage > 0 && c.stage != expected_stage)
    throw std::invalid_argument(fmt::format(
        "a stage {} pose_regressor where stage {} was expected", c.stage, expected_stage));
  const int blocks = static_cast<int>(c.channels.size());
  if (c.input_size % (1 << blocks) != 0)
    nn::refuse_config(name + "input_size", std::to_string(c.input_size),
                      fmt::format("a multiple of {} ({} conv blocks halve it)", 1 << blocks,
                                  blocks));
}

}  // namespace

PoseRegressorConfig PoseRegressorConfig::from_json(const std::string& text, int expected_stage) {
  PoseRegressorConfig c = nn::config_from_json<PoseRegressorConfig>(text);
  check_stage(c, expected_stage, "");
  return c;
}

PoseRegressorConfig stage1_config() {
  PoseRegressorConfig c;
  c.input_size = 48;
  c.channels = {16, 32, 64, 128};
  c.hidden = 512;
  c.dropout = 0.0f;
  return c;
}

PoseRegressorConfig refinement_config(int stage) {
  PoseRegressorConfig c;
  c.stage = stage;
  c.input_size = 32;
  c.channels = {16, 32, 64};
  c.hidden = 128;
  return c;
}

nn::ConfigFields DeepPoseConfig::fields() {
  nn::ConfigFields f("deeppose", "a deeppose model");
  f.field("sigma", sigma, 0.01f, 100.0f);  // --sigma 0.1..10
  f.nested_list("stages", stages).length(1, 16);
  return f;
}

DeepPoseConfig DeepPoseConfig::from_json(const std::string& text) {
  DeepPoseConfig c = nn::config_from_json<DeepPoseConfig>(text);
  for (size_t s = 0; s < c.stages.size(); ++s) {
    const std::string name = fmt::format("stages[{}].", s);
    check_stage(c.stages[s], static_cast<int>(s) + 1, name);
    if (c.stages[s].num_joints != c.stages[0].num_joints)
      nn::refuse_config(name + "num_joints", std::to_string(c.stages[s].num_joints),
                        fmt::format("{}, as stage 1's", c.stages[0].num_joints));
  }
  return c;
}

DeepPoseConfig deeppose_config(int stages, float sigma, const PoseRegressorConfig& stage1,
                               const PoseRegressorConfig& refinement) {
  DeepPoseConfig cfg{{stage1}, sigma};
  for (int s = 2; s <= stages; ++s) {
    cfg.stages.push_back(refinement);
    cfg.stages.back().stage = s;
  }
  return cfg;
}

int keep_stages(DeepPoseConfig& cfg, const DeepPoseConfig& old) {
  const int kept = std::min<int>(static_cast<int>(old.stages.size()),
                                 static_cast<int>(cfg.stages.size()) - 1);
  for (int s = 0; s < kept; ++s) cfg.stages[s] = old.stages[s];
  if (kept >= 2) cfg.sigma = old.sigma;
  return kept;
}

PoseRegressor::PoseRegressor(const PoseRegressorConfig& cfg, Rng& rng) : config(cfg) {
  features = std::make_shared<Sequential>();
  int in = 3;
  for (int out : cfg.channels) {
    features->add(std::make_shared<Conv2d>(in, out, 3, 1, 1, rng, false));
    features->add(std::make_shared<BatchNorm2d>(out));
    features->add(std::make_shared<ReLU>());
    features->add(std::make_shared<MaxPool2d>(2));
    in = out;
  }
  const int s = cfg.input_size >> cfg.channels.size();
  fc = std::make_shared<Sequential>();
  fc->add(std::make_shared<Flatten>());
  fc->add(std::make_shared<Linear>(in * s * s, cfg.hidden, rng));
  fc->add(std::make_shared<ReLU>());
  fc->add(std::make_shared<Dropout>(cfg.dropout, rng.next_u64()));
  auto out = std::make_shared<Linear>(cfg.hidden, 2 * cfg.num_joints, rng);
  // A small last layer with zero bias starts every joint at the box centre, N = 0:
  // the first loss is the spread of the targets, not a random far-off guess.
  for (float& w : out->weight.value()) w = rng.normal(0.0f, 0.001f);
  fc->add(out);
  register_module("features", features);
  register_module("fc", fc);
}

Var PoseRegressor::forward(const Var& x) {
  check_resized_input(x, config.input_size, fmt::format("PoseRegressor stage {}", config.stage));
  return (*fc)((*features)(x));
}

DeepPoseCascade::DeepPoseCascade(const DeepPoseConfig& cfg, Rng& rng) : config(cfg) {
  for (const auto& s : cfg.stages) {
    stages.push_back(std::make_shared<PoseRegressor>(s, rng));
    register_module(fmt::format("stage{}", s.stage), stages.back());
  }
}

std::pair<float, float> normalize_point(float x, float y, const PoseBox& b) {
  return {(x - b.cx) / b.w, (y - b.cy) / b.h};
}

std::pair<float, float> denormalize_point(float u, float v, const PoseBox& b) {
  return {u * b.w + b.cx, v * b.h + b.cy};
}

float pose_diameter(const std::vector<float>& j, float min_size) {
  if (j.size() < 20) throw ShapeError("pose_diameter: need the 14 figure joints (28 values)");
  auto dist = [&](int a, int b) {
    return std::hypot(j[2 * a] - j[2 * b], j[2 * a + 1] - j[2 * b + 1]);
  };
  // Right hip 2, left hip 3, right shoulder 8, left shoulder 9 (src/data/figures.h).
  const float d = 0.5f * (dist(9, 2) + dist(8, 3));
  return std::isfinite(d) ? std::max(d, min_size) : min_size;
}

PoseBox joint_window(const std::vector<float>& joints, int joint, float sigma) {
  if (joint < 0 || 2 * joint + 1 >= static_cast<int>(joints.size()))
    throw ShapeError(fmt::format("joint_window: joint {} out of range", joint));
  const float side = sigma * pose_diameter(joints);
  return {joints[2 * joint], joints[2 * joint + 1], side, side};
}

void window_targets(const std::vector<float>& keypoints, int joint, const PoseBox& b,
                    float radius, float* target, float* mask) {
  const int K = static_cast<int>(keypoints.size() / 3);
  if (joint < 0 || joint >= K)
    throw ShapeError(fmt::format("window_targets: joint {} out of range", joint));
  for (int k = 0; k < K; ++k) {
    auto [u, v] = normalize_point(keypoints[3 * k], keypoints[3 * k + 1], b);
    const bool use = k == joint || (keypoints[3 * k + 2] > 0 && std::fabs(u) <= radius &&
                                    std::fabs(v) <= radius);
    target[2 * k] = use ? u : 0.0f;
    target[2 * k + 1] = use ? v : 0.0f;
    mask[2 * k] = mask[2 * k + 1] = use ? 1.0f : 0.0f;
  }
}

// ---- pre-processing -------------------------------------------------------------------
void pose_input(const Image& in, float* dst, bool flip) {
  const int S = in.width;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) {
        const int sx = flip ? S - 1 - x : x;
        const float v = in.pixels[(static_cast<size_t>(y) * S + sx) * 3 + c] / 255.0f;
        dst[(c * S + y) * S + x] = (v - kPosePixelMean) / kPosePixelStd;
      }
}

PoseBox image_box(const Image& img) {
  return {img.width / 2.0f, img.height / 2.0f, float(img.width), float(img.height)};
}

Image window_input(const Image& img, const PoseBox& b, int S) {
  return warp_region(img, b.cx - b.w / 2, b.cy - b.h / 2, b.cx + b.w / 2, b.cy + b.h / 2, S, S);
}

// ---- inference -------------------------------------------------------------------------
std::vector<Pose> run_stage1(PoseRegressor& net, const std::vector<const Image*>& images,
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
      pose_input(resize_bilinear(*images[s + i], S, S), x.data() + i * 3 * S * S, false);
    Tensor out = net(Var(x)).value();
    for (int64_t i = 0; i < m; ++i) {
      const PoseBox box = image_box(*images[s + i]);
      for (int j = 0; j < K; ++j) {
        auto [px, py] = denormalize_point(out[i * 2 * K + 2 * j], out[i * 2 * K + 2 * j + 1], box);
        poses[s + i][2 * j] = px;
        poses[s + i][2 * j + 1] = py;
      }
    }
  }
  return poses;
}

std::vector<Pose> refine(PoseRegressor& net, const std::vector<const Image*>& images,
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
      const PoseBox b = joint_window(prev[i], static_cast<int>(t % K), sigma);
      pose_input(window_input(*images[i], b, S), x.data() + t * 3 * S * S, false);
    }
    Tensor out = net(Var(x)).value();
    for (int64_t t = 0; t < m * K; ++t) {
      const int64_t i = s + t / K;
      const int j = static_cast<int>(t % K);
      const PoseBox b = joint_window(prev[i], j, sigma);
      auto [px, py] = denormalize_point(out[t * 2 * K + 2 * j], out[t * 2 * K + 2 * j + 1], b);
      poses[i][2 * j] = px;
      poses[i][2 * j + 1] = py;
    }
  }
  return poses;
}

std::vector<std::vector<Pose>> run_cascade(DeepPoseCascade& model,
                                           const std::vector<const Image*>& images, int upto) {
  model.eval();
  std::vector<std::vector<Pose>> per_stage;
  per_stage.push_back(run_stage1(*model.stages[0], images, 64));
  for (int s = 1; s < upto; ++s)
    per_stage.push_back(refine(*model.stages[s], images, per_stage.back(), model.config.sigma, 16));
  return per_stage;
}

std::vector<std::vector<Pose>> run_cascade(DeepPoseCascade& model, const KeypointDataset& ds,
                                           int upto) {
  std::vector<const Image*> images;
  for (const auto& item : ds.items) images.push_back(&item.image);
  return run_cascade(model, images, upto);
}

// ---- training --------------------------------------------------------------------------
PoseBatch stage1_batch(const KeypointDataset& ds, const std::vector<int64_t>& order,
                       int64_t start, int64_t size, int S, const Rng* flip_rng) {
  const int K = ds.num_joints();
  const int64_t n = std::min<int64_t>(size, static_cast<int64_t>(order.size()) - start);
  PoseBatch b{Tensor({n, 3, S, S}), Tensor({n, 2 * K}), Tensor({n, 2 * K})};
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const KeypointItem& item = ds.items[order[start + i]];
    bool flip = false;
    if (flip_rng && K == kFigureJoints)
      flip = flip_rng->fork(static_cast<uint64_t>(order[start + i])).bernoulli(0.5f);
    pose_input(resize_bilinear(item.image, S, S), b.x.data() + i * 3 * S * S, flip);
    const PoseBox box = image_box(item.image);
    for (int j = 0; j < K; ++j) {
      const int src = flip ? figure_mirror()[j] : j;
      float x = item.keypoints[3 * src], y = item.keypoints[3 * src + 1];
      const bool labelled = item.keypoints[3 * src + 2] > 0;
      if (flip) x = item.image.width - x;
      auto [u, v] = normalize_point(x, y, box);
      b.target[i * 2 * K + 2 * j] = labelled ? u : 0.0f;
      b.target[i * 2 * K + 2 * j + 1] = labelled ? v : 0.0f;
      b.mask[i * 2 * K + 2 * j] = b.mask[i * 2 * K + 2 * j + 1] = labelled ? 1.0f : 0.0f;
    }
  }
  return b;
}

double DisplacementStats::rms() const {
  double sum = 0;
  for (size_t k = 0; k < mean.size(); ++k) sum += mean[k] * mean[k] + sd[k] * sd[k];
  return std::sqrt(sum / mean.size());
}

DisplacementStats displacement_stats(const KeypointDataset& ds, const std::vector<Pose>& prev) {
  const int K = ds.num_joints();
  std::vector<double> s1(2 * K, 0.0), s2(2 * K, 0.0), cnt(2 * K, 0.0);
  for (size_t i = 0; i < ds.items.size(); ++i) {
    const float diam = pose_diameter(prev[i]);
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
  for (const auto& p : prev) st.mean_diameter += pose_diameter(p);
  st.mean_diameter /= static_cast<double>(ds.items.size());
  for (int k = 0; k < 2 * K; ++k)
    if (cnt[k] > 1) {
      const double m = s1[k] / cnt[k];
      st.mean[k] = static_cast<float>(m);
      st.sd[k] = static_cast<float>(std::sqrt(std::max(0.0, s2[k] / cnt[k] - m * m)));
    }
  return st;
}

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

PoseBatch refine_batch(const KeypointDataset& ds, const std::vector<Pose>& prev,
                       const DisplacementStats& st, const std::vector<CropSample>& samples,
                       const std::vector<int64_t>& order, int64_t start, int64_t size, int S,
                       float sigma, float neighbours, const Rng& rng) {
  const int K = ds.num_joints();
  const int64_t n = std::min<int64_t>(size, static_cast<int64_t>(order.size()) - start);
  PoseBatch b{Tensor({n, 3, S, S}), Tensor({n, 2 * K}), Tensor({n, 2 * K})};
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < n; ++t) {
    const CropSample& cs = samples[order[start + t]];
    const KeypointItem& item = ds.items[cs.item];
    const int j = cs.joint;
    Rng r = rng.fork(static_cast<uint64_t>(order[start + t]));
    PoseBox box = joint_window(prev[cs.item], j, sigma);
    const float tx = item.keypoints[3 * j], ty = item.keypoints[3 * j + 1];
    if (r.bernoulli(0.5f)) {
      const float diam = pose_diameter(prev[cs.item]);
      box.cx = tx + diam * r.normal(st.mean[2 * j], st.sd[2 * j]);
      box.cy = ty + diam * r.normal(st.mean[2 * j + 1], st.sd[2 * j + 1]);
    }
    pose_input(window_input(item.image, box, S), b.x.data() + t * 3 * S * S, false);
    window_targets(item.keypoints, j, box, neighbours, b.target.data() + t * 2 * K,
                   b.mask.data() + t * 2 * K);
  }
  return b;
}

StageBatches::StageBatches(const KeypointDataset& train, int stage, int input_size,
                           const std::vector<Pose>& prev, const StageSampling& sampling)
    : train_(train), prev_(prev), stage_(stage), input_size_(input_size), o_(sampling) {
  if (stage_ >= 2) stats_ = displacement_stats(train_, prev_);
}

int64_t StageBatches::per_epoch() const {
  if (stage_ == 1) return static_cast<int64_t>(train_.items.size());
  return static_cast<int64_t>(epoch_samples(train_, o_.crops_per_image, Rng(0)).size());
}

PoseBatch StageBatches::batch(int epoch, int64_t step, int64_t size) {
  if (epoch != epoch_) {
    epoch_ = epoch;
    epoch_rng_ = Rng(o_.seed).fork(1000 * stage_ + epoch);
    if (stage_ >= 2) samples_ = epoch_samples(train_, o_.crops_per_image, epoch_rng_.fork(1));
    Rng shuffle = epoch_rng_.fork(2);
    const size_t count = stage_ == 1 ? train_.items.size() : samples_.size();
    order_ = shuffled_indices(static_cast<int64_t>(count), shuffle);
  }
  const Rng batch_rng = epoch_rng_.fork(3);
  if (stage_ == 1)
    return stage1_batch(train_, order_, step * size, size, input_size_,
                        o_.flip ? &batch_rng : nullptr);
  return refine_batch(train_, prev_, stats_, samples_, order_, step * size, size, input_size_,
                      o_.sigma, o_.neighbours, batch_rng);
}

Var masked_l2(const Var& pred, const PoseBatch& b) {
  const float count = std::max(1.0f, sum_all(b.mask) / 2.0f);
  Var d = ag::mul(ag::sub(pred, Var(b.target)), Var(b.mask));
  return ag::mul(ag::sum_all(ag::mul(d, d)), 1.0f / count);
}

}  // namespace dl::models
