#include "detection/sliding_windows.h"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

#include "image/transforms.h"

namespace dl {

std::vector<PyramidLevel> make_pyramid(int image_width, int image_height,
                                       const SlidingWindowConfig& cfg, int max_side) {
  if (image_width <= 0 || image_height <= 0)
    throw std::invalid_argument(
        fmt::format("sliding windows: bad image size {}x{}", image_width, image_height));
  if (cfg.crop_size <= 0 || cfg.stride <= 0)
    throw std::invalid_argument("sliding windows: crop size and stride must be positive");
  std::vector<PyramidLevel> levels;
  int64_t first = 0;
  for (float side : cfg.scales) {
    if (!(side > 0)) throw std::invalid_argument(fmt::format("sliding windows: bad scale {}", side));
    for (float aspect : cfg.aspects) {
      if (!(aspect > 0))
        throw std::invalid_argument(fmt::format("sliding windows: bad aspect ratio {}", aspect));
      PyramidLevel l;
      l.side = side;
      l.aspect = aspect;
      l.window_w = side / std::sqrt(aspect);
      l.window_h = side * std::sqrt(aspect);
      const double w = std::round(double(image_width) * cfg.crop_size / l.window_w);
      const double h = std::round(double(image_height) * cfg.crop_size / l.window_h);
      if (w > max_side || h > max_side)
        throw std::invalid_argument(fmt::format(
            "sliding windows: a {:.0f}x{:.0f} window on a {}x{} image needs a {:.0f}x{:.0f} "
            "pyramid level (over {} pixels); use larger --scales",
            l.window_w, l.window_h, image_width, image_height, w, h, max_side));
      l.width = std::max(1, static_cast<int>(w));
      l.height = std::max(1, static_cast<int>(h));
      l.scale_x = float(l.width) / image_width;
      l.scale_y = float(l.height) / image_height;
      l.crop_size = cfg.crop_size;
      l.stride = cfg.stride;
      l.nx = l.width >= cfg.crop_size ? (l.width - cfg.crop_size) / cfg.stride + 1 : 0;
      l.ny = l.height >= cfg.crop_size ? (l.height - cfg.crop_size) / cfg.stride + 1 : 0;
      if (l.nx == 0 || l.ny == 0) l.nx = l.ny = 0;
      l.first = first;
      first += l.count();
      levels.push_back(l);
    }
  }
  return levels;
}

int64_t count_windows(const std::vector<PyramidLevel>& levels) {
  int64_t n = 0;
  for (const auto& l : levels) n += l.count();
  return n;
}

Box window_box(const PyramidLevel& l, int ix, int iy) {
  const float x0 = float(ix) * l.stride, y0 = float(iy) * l.stride;
  return {x0 / l.scale_x, y0 / l.scale_y, (x0 + l.crop_size) / l.scale_x,
          (y0 + l.crop_size) / l.scale_y};
}

std::vector<Box> all_window_boxes(const std::vector<PyramidLevel>& levels) {
  std::vector<Box> boxes;
  boxes.reserve(static_cast<size_t>(count_windows(levels)));
  for (const auto& l : levels)
    for (int iy = 0; iy < l.ny; ++iy)
      for (int ix = 0; ix < l.nx; ++ix) boxes.push_back(window_box(l, ix, iy));
  return boxes;
}

Image level_image(const Image& img, const PyramidLevel& level) {
  if (level.width == img.width && level.height == img.height) return img;
  return resize_bilinear(img, level.width, level.height);
}

}  // namespace dl
