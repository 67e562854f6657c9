#include "proposals/dense_windows.h"

#include <algorithm>
#include <cmath>

namespace dl {

std::vector<Box> dense_windows(int width, int height, Rng& rng) {
  std::vector<Box> boxes;
  for (float side = 16; side <= std::max(width, height) * 1.001f; side *= std::sqrt(2.0f))
    for (float aspect : {0.5f, 1.0f, 2.0f}) {
      const float w = std::round(side / std::sqrt(aspect)), h = std::round(side * std::sqrt(aspect));
      if (w > width || h > height) continue;
      const int stride = std::max(1, static_cast<int>(std::lround(side / 4)));
      for (float y = 0; y + h <= height; y += stride)
        for (float x = 0; x + w <= width; x += stride) boxes.push_back({x, y, x + w, y + h});
    }
  for (size_t i = boxes.size(); i > 1; --i)  // Fisher-Yates with dl::Rng
    std::swap(boxes[i - 1], boxes[rng.below(static_cast<uint32_t>(i))]);
  return boxes;
}

}  // namespace dl
