#include "lessons/common/draw_pose.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "data/figures.h"
#include "image/draw.h"
#include "image/transforms.h"

namespace dl::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

Image draw_pose(const Image& img, const std::vector<float>& pose,
                const std::vector<std::string>& names, bool with_names) {
  const int factor = std::max(1, 384 / std::max(img.width, img.height));
  Image canvas = factor > 1 ? resize_bilinear(img, img.width * factor, img.height * factor) : img;
  const float scale = static_cast<float>(factor);
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
  return canvas;
}

nlohmann::json pose_json(const std::vector<float>& pose, const std::vector<std::string>& names) {
  nlohmann::json joints = nlohmann::json::array();
  for (size_t j = 0; j < names.size(); ++j)
    joints.push_back({{"name", names[j]}, {"x", pose[2 * j]}, {"y", pose[2 * j + 1]}});
  return joints;
}

json save_pose_prediction(const std::string& path, const Image& img,
                          const std::vector<std::vector<float>>& stage_poses, int drawn,
                          const std::string& suffix, const std::vector<std::string>& names,
                          bool with_names, const std::string& out_dir) {
  const Image canvas = draw_pose(img, stage_poses[drawn - 1], names, with_names);
  fs::create_directories(out_dir);
  const std::string out_path =
      (fs::path(out_dir) / (fs::path(path).stem().string() + ".deeppose" + suffix + ".png"))
          .string();
  save_image(out_path, canvas);
  json stages_json = json::array();
  for (size_t s = 0; s < stage_poses.size(); ++s)
    stages_json.push_back({{"stage", s + 1}, {"joints", pose_json(stage_poses[s], names)}});
  return {{"image", path}, {"width", img.width}, {"height", img.height},
          {"stages", stages_json}, {"annotated", out_path}};
}

void print_pose(const std::vector<float>& pose, const std::vector<std::string>& names) {
  for (size_t j = 0; j < names.size(); ++j)
    fmt::print("  {:<15} ({:6.1f}, {:6.1f})\n", names[j], pose[2 * j], pose[2 * j + 1]);
}

}  // namespace dl::cli
