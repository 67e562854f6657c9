#include "detection/anchors.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace dl {

std::vector<Box> cell_anchors(const std::vector<float>& sizes,
                              const std::vector<float>& aspect_ratios) {
  std::vector<Box> out;
  for (float r : aspect_ratios) {
    if (!(r > 0)) throw std::invalid_argument("cell_anchors: aspect ratios must be positive");
    // Float arithmetic in torchvision's order, so that rounding lands the same way.
    const float h_ratio = std::sqrt(r), w_ratio = 1.0f / h_ratio;
    for (float s : sizes) {
      if (!(s > 0)) throw std::invalid_argument("cell_anchors: sizes must be positive");
      const float w = w_ratio * s, h = h_ratio * s;
      // nearbyint rounds halves to even in the default rounding mode, like torch.round.
      out.push_back({std::nearbyint(-w / 2), std::nearbyint(-h / 2), std::nearbyint(w / 2),
                     std::nearbyint(h / 2)});
    }
  }
  return out;
}

std::vector<Box> grid_anchors(const std::vector<Box>& cell, GridSize grid, int stride_h,
                              int stride_w) {
  if (grid.height < 0 || grid.width < 0)
    throw std::invalid_argument("grid_anchors: negative grid size");
  std::vector<Box> out;
  out.reserve(static_cast<size_t>(grid.height) * grid.width * cell.size());
  for (int y = 0; y < grid.height; ++y)
    for (int x = 0; x < grid.width; ++x) {
      const float sx = static_cast<float>(x * stride_w), sy = static_cast<float>(y * stride_h);
      for (const Box& a : cell) out.push_back({a.x1 + sx, a.y1 + sy, a.x2 + sx, a.y2 + sy});
    }
  return out;
}

std::vector<Box> multilevel_anchors(const std::vector<AnchorLevel>& levels,
                                    const std::vector<GridSize>& grids, int image_height,
                                    int image_width) {
  if (levels.size() != grids.size())
    throw std::invalid_argument("multilevel_anchors: " + std::to_string(levels.size()) +
                                " anchor levels but " + std::to_string(grids.size()) +
                                " feature maps");
  std::vector<Box> out;
  for (size_t i = 0; i < levels.size(); ++i) {
    const GridSize g = grids[i];
    if (g.height <= 0 || g.width <= 0 || g.height > image_height || g.width > image_width)
      throw std::invalid_argument("multilevel_anchors: feature map " + std::to_string(i) + " is " +
                                  std::to_string(g.height) + "x" + std::to_string(g.width) +
                                  " for a " + std::to_string(image_height) + "x" +
                                  std::to_string(image_width) + " image");
    const std::vector<Box> level = grid_anchors(
        cell_anchors(levels[i].sizes, levels[i].aspect_ratios), g, image_height / g.height,
        image_width / g.width);
    out.insert(out.end(), level.begin(), level.end());
  }
  return out;
}

}  // namespace dl
