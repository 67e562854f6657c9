#include "lessons/common/draw_pose.h"

#include <algorithm>

#include "data/figures.h"
#include "image/draw.h"
#include "image/transforms.h"

namespace dl::cli {

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

}  // namespace dl::cli
