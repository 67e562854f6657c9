#include "models/deeppose.h"

#include <fmt/core.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "tensor/tensor.h"

namespace dl::models {

using json = nlohmann::json;

namespace {

json stage_json(const PoseRegressorConfig& c) {
  return {{"arch", "pose_regressor"}, {"stage", c.stage},   {"input_size", c.input_size},
          {"channels", c.channels},   {"hidden", c.hidden}, {"num_joints", c.num_joints},
          {"dropout", c.dropout}};
}

PoseRegressorConfig stage_from_json(const json& j, int expected_stage) {
  PoseRegressorConfig c;
  if (!j.is_object() || j.value("arch", "") != "pose_regressor")
    throw std::invalid_argument(
        "not a deeppose model (arch '" +
        (j.is_object() ? j.value("arch", std::string("?")) : std::string("?")) + "')");
  try {
    c.stage = j.at("stage");
    c.input_size = j.at("input_size");
    c.channels = j.at("channels").get<std::vector<int>>();
    c.hidden = j.at("hidden");
    c.num_joints = j.at("num_joints");
    c.dropout = j.at("dropout");
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("bad model config: ") + e.what());
  }
  if (expected_stage > 0 && c.stage != expected_stage)
    throw std::invalid_argument(fmt::format(
        "a stage {} pose_regressor where stage {} was expected", c.stage, expected_stage));
  const int blocks = static_cast<int>(c.channels.size());
  bool ok = c.stage >= 1 && c.stage <= 16 && blocks >= 1 && blocks <= 8 && c.input_size >= 8 &&
            c.input_size <= 1024 && c.input_size % (1 << blocks) == 0 && c.hidden >= 1 &&
            c.hidden <= 65536 && c.num_joints >= 1 && c.num_joints <= 1000 &&
            c.dropout >= 0.0f && c.dropout < 1.0f;
  for (int ch : c.channels) ok = ok && ch >= 1 && ch <= 4096;
  if (!ok) throw std::invalid_argument("bad model config: sizes out of range");
  return c;
}

}  // namespace

std::string PoseRegressorConfig::to_json() const { return stage_json(*this).dump(); }

PoseRegressorConfig PoseRegressorConfig::from_json(const std::string& text, int expected_stage) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("bad model config: ") + e.what());
  }
  return stage_from_json(j, expected_stage);
}

PoseRegressorConfig refinement_config(int stage) {
  PoseRegressorConfig c;
  c.stage = stage;
  c.input_size = 32;
  c.channels = {16, 32, 64};
  c.hidden = 128;
  return c;
}

std::string DeepPoseConfig::to_json() const {
  json st = json::array();
  for (const auto& s : stages) st.push_back(stage_json(s));
  return json({{"arch", "deeppose"}, {"sigma", sigma}, {"stages", st}}).dump();
}

DeepPoseConfig DeepPoseConfig::from_json(const std::string& text) {
  DeepPoseConfig c;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("bad model config: ") + e.what());
  }
  if (!j.is_object() || j.value("arch", "") != "deeppose")
    throw std::invalid_argument(
        "not a deeppose model (arch '" +
        (j.is_object() ? j.value("arch", std::string("?")) : std::string("?")) + "')");
  try {
    c.sigma = j.at("sigma");
    const json& st = j.at("stages");
    if (!st.is_array() || st.empty() || st.size() > 16)
      throw std::invalid_argument("bad model config: 'stages' must list 1..16 stages");
    for (size_t s = 0; s < st.size(); ++s)
      c.stages.push_back(stage_from_json(st[s], static_cast<int>(s) + 1));
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("bad model config: ") + e.what());
  }
  if (!(c.sigma > 0.0f && c.sigma <= 100.0f))
    throw std::invalid_argument("bad model config: sigma out of range");
  for (const auto& s : c.stages)
    if (s.num_joints != c.stages[0].num_joints)
      throw std::invalid_argument("bad model config: stages disagree on the number of joints");
  return c;
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
  check_shape(x.dim() == 4 && x.size(1) == 3 && x.size(2) == config.input_size &&
                  x.size(3) == config.input_size,
              "PoseRegressor",
              fmt::format("stage {0} expects [N, 3, {2}, {2}] inputs, got {1}", config.stage,
                          shape_str(x.shape()), config.input_size));
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

}  // namespace dl::models
