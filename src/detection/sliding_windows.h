// Sliding windows over an image pyramid: "detection as classification". A classifier
// with a fixed input of S x S pixels looks at every window of every size and shape.
//
// Instead of cutting windows of many sizes out of the image and warping each to S x S,
// the image is resized once per window shape (the pyramid, as in Viola-Jones and DPM)
// so that the window becomes exactly S x S, and an S x S window slides over the resized
// image with a fixed stride. A window of side `side` and aspect a = h / w is
// w = side / sqrt(a) by h = side * sqrt(a) pixels of the original image (the area
// stays side^2 whatever the aspect), so its level is the image scaled by S / w
// horizontally and S / h vertically.
//
// The stride is counted in pixels of the level, i.e. in units of the network's input;
// in the original image it is stride * w / S: coarse for big windows, fine for small
// ones, as in OverFeat (Sermanet et al. 2014, sec. 4) where it is the network's
// subsampling ratio at every scale.
#pragma once
#include <cstdint>
#include <vector>

#include "detection/boxes.h"
#include "image/image.h"

namespace dl {

struct SlidingWindowConfig {
  int crop_size = 22;              // S: the classifier's input side
  int stride = 4;                  // in level pixels
  std::vector<float> scales{16, 24, 34, 48};  // window sides in image pixels
  std::vector<float> aspects{0.5f, 1.0f, 2.0f};   // h / w
};

// One pyramid level: one window shape (scale x aspect) and the resized image it uses.
struct PyramidLevel {
  float side = 0, aspect = 1;      // the window shape it scans
  float window_w = 0, window_h = 0;  // that window in image pixels
  int width = 0, height = 0;       // the resized image: round(W * S / window_w) x ...
  float scale_x = 1, scale_y = 1;  // width / W, height / H (exact, after rounding)
  int crop_size = 0, stride = 0;
  int nx = 0, ny = 0;              // windows across and down: (width - S) / stride + 1, or 0
  int64_t first = 0;               // index of its first window among all levels' windows
  int64_t count() const { return static_cast<int64_t>(nx) * ny; }
};

// Levels in (scale, aspect) order, scales outer. Levels whose image is smaller than
// S x S have nx = ny = 0 and no windows. Throws std::invalid_argument for a
// non-positive size, stride, scale or aspect, or a level wider or higher than
// `max_side` pixels (a tiny window on a large photo would need a huge level).
std::vector<PyramidLevel> make_pyramid(int image_width, int image_height,
                                       const SlidingWindowConfig& cfg, int max_side = 8192);

// Total number of windows, i.e. sum over levels of nx * ny.
int64_t count_windows(const std::vector<PyramidLevel>& levels);

// Window (ix, iy) of a level as a box in the original image's pixels.
Box window_box(const PyramidLevel& level, int ix, int iy);

// Every window of every level as boxes, in the global order (level, iy, ix).
std::vector<Box> all_window_boxes(const std::vector<PyramidLevel>& levels);

// The resized image of a level (bilinear, half-pixel centres).
Image level_image(const Image& img, const PyramidLevel& level);

}  // namespace dl
