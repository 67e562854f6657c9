// What every detector returns for one image: boxes with a class and a score. The
// fields for a mask and keypoints stay empty for box detectors (Mask R-CNN and a
// keypoint head fill them).
#pragma once
#include <cstdint>
#include <vector>

#include "detection/boxes.h"

namespace dl {

struct Detection {
  Box box;
  int cls = 0;  // 0-based object class (background is not a detection)
  float score = 0;
  std::vector<uint8_t> mask;   // optional: image-sized binary mask, row-major
  std::vector<float> keypoints;  // optional: x, y, visibility per keypoint
};

}  // namespace dl
