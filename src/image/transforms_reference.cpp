// The plain definition of warp_region: every output sample is one sample_bilinear call
// per channel. warp_region (transforms.cpp) must give the same bytes; the tests use this
// as its oracle.
#include <algorithm>
#include <cmath>
#include <string>

#include "image/transforms.h"
#include "util/mul_add.h"

namespace dl {

namespace {
// The sample position x0 + (ox + 0.5) sx with one rounding, as transforms.cpp computes it.
float position(float start, int o, float step) { return mul_add(o + 0.5f, step, start); }

// The same rounding as transforms.cpp's.
uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also maps NaN to 0
  if (v >= 255.0f) return 255;
  return static_cast<uint8_t>(v + 0.5f);
}
}  // namespace

Image warp_region_reference(const Image& img, float x0, float y0, float x1, float y1, int out_w,
                            int out_h, const std::vector<uint8_t>& fill, Border border) {
  check_shape(out_w > 0 && out_h > 0, "warp_region",
              "output size must be positive, got " + std::to_string(out_w) + "x" +
                  std::to_string(out_h));
  check_shape(!img.empty(), "warp_region", "empty input image");
  Image out(out_w, out_h, img.channels);
  const float sx = (x1 - x0) / out_w, sy = (y1 - y0) / out_h;
  for (int oy = 0; oy < out_h; ++oy) {
    const float y = position(y0, oy, sy);
    for (int ox = 0; ox < out_w; ++ox) {
      const float x = position(x0, ox, sx);
      for (int c = 0; c < img.channels; ++c) {
        const float f = fill.empty() ? 0 : fill[std::min<size_t>(c, fill.size() - 1)];
        out.at(ox, oy, c) = to_byte(sample_bilinear(img, x, y, c, border, f));
      }
    }
  }
  return out;
}

}  // namespace dl
