#include "detection/scale_choice.h"

#include <cmath>
#include <string>

#include "tensor/tensor.h"

namespace dl {

namespace {
void check_scales(const std::vector<float>& scales, float target_side) {
  check_shape(!scales.empty(), "choose_scale", "needs at least one scale");
  for (float s : scales)
    check_shape(s > 0 && std::isfinite(s), "choose_scale",
                "scales must be positive, got " + std::to_string(s));
  check_shape(target_side > 0, "choose_scale", "needs a positive target size");
}
}  // namespace

int choose_scale(const Box& window, const std::vector<float>& scales, float target_side) {
  check_scales(scales, target_side);
  // Double precision: the comparison of |s^2 A - T^2| between scales decides the map a
  // window is pooled from; the features must not depend on rounding near a tie.
  const double area = box_area(window), target = double(target_side) * target_side;
  if (area <= 0) {
    int best = 0;
    for (size_t i = 1; i < scales.size(); ++i)
      if (scales[i] > scales[best]) best = static_cast<int>(i);
    return best;
  }
  int best = 0;
  double best_diff = std::abs(double(scales[0]) * scales[0] * area - target);
  for (size_t i = 1; i < scales.size(); ++i) {
    const double d = std::abs(double(scales[i]) * scales[i] * area - target);
    if (d < best_diff) best = static_cast<int>(i), best_diff = d;
  }
  return best;
}

Box scale_box(const Box& window, float sx, float sy) {
  return {window.x1 * sx, window.y1 * sy, window.x2 * sx, window.y2 * sy};
}

}  // namespace dl
