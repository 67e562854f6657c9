#include "image/tf_resize.h"

#include <algorithm>
#include <cmath>

namespace dl {

Tensor tf_square_resize(const Image& img, int size) {
  check_shape(img.channels == 3 && img.width > 0 && img.height > 0 && size > 0,
              "tf_square_resize", "needs an RGB image and a positive size");
  const int side = std::max(img.width, img.height);
  const double ratio = static_cast<double>(side) / size;
  auto pixel = [&](int x, int y, int c) -> double {
    return x < img.width && y < img.height ? img.at(x, y, c) : 0.0;  // the padding
  };
  Tensor t = Tensor::uninitialized({1, 3, size, size});
  for (int oy = 0; oy < size; ++oy) {
    const double sy = ratio * oy;
    const int y0 = std::max(0, static_cast<int>(std::floor(sy)));
    const int y1 = std::min(side - 1, static_cast<int>(std::ceil(sy)));
    const double fy = sy - y0;
    for (int ox = 0; ox < size; ++ox) {
      const double sx = ratio * ox;
      const int x0 = std::max(0, static_cast<int>(std::floor(sx)));
      const int x1 = std::min(side - 1, static_cast<int>(std::ceil(sx)));
      const double fx = sx - x0;
      for (int c = 0; c < 3; ++c) {
        const double top = pixel(x0, y0, c) + (pixel(x1, y0, c) - pixel(x0, y0, c)) * fx;
        const double bottom = pixel(x0, y1, c) + (pixel(x1, y1, c) - pixel(x0, y1, c)) * fx;
        t[(static_cast<int64_t>(c) * size + oy) * size + ox] =
            static_cast<float>(top + (bottom - top) * fy);
      }
    }
  }
  return t;
}

ResizedSides tf_resized_sides(int image_w, int image_h, int size) {
  const double scale = static_cast<double>(size) / std::max(image_w, image_h);
  return {std::round(image_w * scale), std::round(image_h * scale)};
}

}  // namespace dl
