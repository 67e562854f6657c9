#include "lessons/common/window_heatmap.h"

#include <algorithm>
#include <cmath>

#include "image/draw.h"

namespace dl::cli {

Image heatmap_grid(const Image& img, const std::vector<PyramidLevel>& levels,
                   const Tensor& probs, const std::vector<std::string>& names) {
  const int K = static_cast<int>(names.size()), C = K + 1, cols = 5;
  const int rows = (K + cols - 1) / cols, W = img.width, H = img.height;
  Image grid(cols * W, rows * H, 3, 255);
  const std::vector<Box> windows = all_window_boxes(levels);
  for (int k = 0; k < K; ++k) {
    std::vector<float> heat(static_cast<size_t>(W) * H, 0.0f);
    for (size_t w = 0; w < windows.size(); ++w) {
      const float p = probs[static_cast<int64_t>(w) * C + k + 1];
      const Box& b = windows[w];
      const int x0 = std::max(0, int(std::lround(b.cx() - b.width() / 4)));
      const int x1 = std::min(W, int(std::lround(b.cx() + b.width() / 4)));
      const int y0 = std::max(0, int(std::lround(b.cy() - b.height() / 4)));
      const int y1 = std::min(H, int(std::lround(b.cy() + b.height() / 4)));
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) heat[y * W + x] = std::max(heat[y * W + x], p);
    }
    const int ox = (k % cols) * W, oy = (k / cols) * H;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        // Dimmed grey image, with the score as red-to-yellow on top.
        const float g = 0.3f * (0.299f * img.at(x, y, 0) + 0.587f * img.at(x, y, 1) +
                                0.114f * img.at(x, y, 2));
        const float h = heat[y * W + x];
        const float r = g + h * (255 - g), gg = g + std::max(0.0f, 2 * h - 1) * (255 - g);
        grid.at(ox + x, oy + y, 0) = static_cast<uint8_t>(std::lround(r));
        grid.at(ox + x, oy + y, 1) = static_cast<uint8_t>(std::lround(gg));
        grid.at(ox + x, oy + y, 2) = static_cast<uint8_t>(std::lround(g));
      }
    draw_text(grid, ox + 1, oy + 1, names[k], {255, 255, 255}, {0, 0, 0});
  }
  return grid;
}

}  // namespace dl::cli
