#include "detection/default_boxes.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dl {

std::vector<double> ssd_scales(double s_min, double s_max, int m) {
  if (!(s_min > 0) || !(s_max >= s_min) || m < 1)
    throw std::invalid_argument("ssd_scales: need 0 < s_min <= s_max and at least one map");
  if (m == 1) return {s_min, s_max};
  std::vector<double> s;
  // k = 0..m: the last is the formula's next step, s'_m's partner.
  for (int k = 0; k <= m; ++k) s.push_back(s_min + (s_max - s_min) * k / (m - 1.0));
  return s;
}

std::vector<std::array<float, 2>> cell_default_box_sizes(double s_k, double s_next,
                                                         const std::vector<float>& ratios,
                                                         bool clip) {
  const double s_prime = std::sqrt(s_k * s_next);
  std::vector<std::array<double, 2>> wh = {{s_k, s_k}, {s_prime, s_prime}};
  for (float a : ratios) {
    if (!(a > 0)) throw std::invalid_argument("default boxes: aspect ratios must be positive");
    const double r = std::sqrt(static_cast<double>(a));
    wh.push_back({s_k * r, s_k / r});  // width / height = a
    wh.push_back({s_k / r, s_k * r});  // and 1 / a
  }
  std::vector<std::array<float, 2>> out;
  for (const auto& p : wh) {
    std::array<float, 2> f = {static_cast<float>(p[0]), static_cast<float>(p[1])};
    if (clip)
      for (float& v : f) v = std::clamp(v, 0.0f, 1.0f);
    out.push_back(f);
  }
  return out;
}

std::vector<Box> map_default_boxes(GridSize grid, double s_k, double s_next,
                                   const std::vector<float>& ratios, int image_h, int image_w,
                                   bool clip) {
  if (grid.height <= 0 || grid.width <= 0)
    throw std::invalid_argument("default boxes: empty feature map " + std::to_string(grid.height) +
                                "x" + std::to_string(grid.width));
  const std::vector<std::array<float, 2>> cell = cell_default_box_sizes(s_k, s_next, ratios, clip);
  const float W = static_cast<float>(image_w), H = static_cast<float>(image_h);
  std::vector<Box> out;
  out.reserve(static_cast<size_t>(grid.height) * grid.width * cell.size());
  for (int i = 0; i < grid.height; ++i)
    for (int j = 0; j < grid.width; ++j) {
      // Float arithmetic in torchvision's order: centre (j + 0.5) / f, then
      // (cx -+ w / 2) times the image size.
      const float cx = (static_cast<float>(j) + 0.5f) / static_cast<float>(grid.width);
      const float cy = (static_cast<float>(i) + 0.5f) / static_cast<float>(grid.height);
      for (const auto& wh : cell)
        out.push_back({(cx - 0.5f * wh[0]) * W, (cy - 0.5f * wh[1]) * H, (cx + 0.5f * wh[0]) * W,
                       (cy + 0.5f * wh[1]) * H});
    }
  return out;
}

std::vector<Box> default_boxes(const std::vector<GridSize>& maps, const std::vector<double>& scales,
                               const std::vector<float>& ratios, int image_h, int image_w,
                               bool clip) {
  if (scales.size() != maps.size() + 1)
    throw std::invalid_argument("default boxes: " + std::to_string(maps.size()) +
                                " feature maps need " + std::to_string(maps.size() + 1) +
                                " scales, got " + std::to_string(scales.size()));
  std::vector<Box> out;
  for (size_t k = 0; k < maps.size(); ++k) {
    const std::vector<Box> m =
        map_default_boxes(maps[k], scales[k], scales[k + 1], ratios, image_h, image_w, clip);
    out.insert(out.end(), m.begin(), m.end());
  }
  return out;
}

}  // namespace dl
