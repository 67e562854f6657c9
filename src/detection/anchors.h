// Anchors (Faster R-CNN, Ren et al. 2015, §3.1.1): at every position of a feature map
// the RPN scores k reference boxes of several scales and aspect ratios at once; the
// anchors are those reference boxes in image pixels. Conventions follow torchvision's
// AnchorGenerator so trained models and golden files agree:
//
// * aspect ratio = height / width; an anchor of size s and ratio r has
//   w = s / sqrt(r), h = s * sqrt(r) (so w * h = s^2).
// * cell (base) anchors are centred on (0, 0): (-w/2, -h/2, w/2, h/2), each coordinate
//   rounded to the nearest integer, halves to even (torch.round).
//   Order: for each aspect ratio, for each size.
// * the cell anchors are shifted by (x * stride_w, y * stride_h) for every grid
//   position, so the first anchor is centred on the image's top-left pixel corner,
//   not the centre of the first cell (torchvision has no half-stride offset).
// * order of the result: for each level, for each row y, for each column x, for each
//   cell anchor a. Anchor index = level offset + (y * grid_w + x) * A + a, which is
//   the order a [A, H, W] score map has after permute to [H, W, A] and flatten.
#pragma once
#include <vector>

#include "detection/boxes.h"

namespace dl {

// One feature-map level: the sizes (pixels) and aspect ratios of its anchors.
struct AnchorLevel {
  std::vector<float> sizes;
  std::vector<float> aspect_ratios;
  int anchors_per_location() const { return static_cast<int>(sizes.size() * aspect_ratios.size()); }
};

struct GridSize {
  int height = 0, width = 0;
};

// Zero-centred, rounded cell anchors, ratio-major (see above). Throws
// std::invalid_argument for non-positive sizes or ratios.
std::vector<Box> cell_anchors(const std::vector<float>& sizes,
                              const std::vector<float>& aspect_ratios);

// The cell anchors repeated over a grid_h x grid_w grid with the given strides.
std::vector<Box> grid_anchors(const std::vector<Box>& cell, GridSize grid, int stride_h,
                              int stride_w);

// All anchors of an image for a feature pyramid: level i uses levels[i] on grids[i]
// with stride image_size / grid_size (integer division, as torchvision). Throws
// std::invalid_argument when the counts differ or a grid is empty or larger than
// the image.
std::vector<Box> multilevel_anchors(const std::vector<AnchorLevel>& levels,
                                    const std::vector<GridSize>& grids, int image_height,
                                    int image_width);

}  // namespace dl
