// Default boxes (SSD, Liu et al., ECCV 2016, §2.2 "Choosing scales and aspect ratios for
// default boxes"): SSD's anchors. Each of m feature maps of decreasing resolution gets
// its own scale, so a small object is predicted from a fine map and a large one from a
// coarse map:
//   s_k = s_min + (s_max - s_min) (k - 1) / (m - 1),   k = 1..m
// At every cell (i, j) of the f_w x f_h map k, centred at ((i + 0.5) / f_w, (j + 0.5) / f_h)
// (fractions of the image), sit boxes of width s_k sqrt(a) and height s_k / sqrt(a) for
// each aspect ratio a (width / height, the paper's a_r) in {1, 2, 1/2, 3, 1/3}, plus one
// more square box of side s'_k = sqrt(s_k s_{k+1}). Boxes are relative to the image and
// scaled by its width and height, as SSD resizes every image to 300 x 300.
//
// detlab against torchvision 0.14's DefaultBoxGenerator (anchor_utils.py), checked by
// tests/test_ssd.cpp on tests/golden/torchvision/ssd.json (tools/golden/
// make_torchvision_ssd_golden.py), within 1e-6 of the relative boxes and 1e-6 x the image
// side in pixels:
// * scales: torchvision's default list is the formula for k = 1..m followed by 1.0 as
//   s_{m+1}, so the last map's extra box is sqrt(s_m); detlab evaluates the formula once
//   more, s_{m+1} = s_max + (s_max - s_min) / (m - 1) (what the paper's formula gives for
//   k = m + 1; 1.0 would make a box of ~90 pixels on the 128-pixel scenes, larger than
//   any object). With the scales passed explicitly (torchvision's `scales=`), the boxes
//   coincide; the golden test checks both, and that only the last map's s' boxes differ
//   with torchvision's default list.
// * steps: torchvision's SSD300 places centres at (i + 0.5) * step / 300 with steps 8, 16,
//   32, 64, 100, 300 (not the maps' exact strides); detlab uses 1 / f_k as the paper does
//   (torchvision's default, steps=None).
// * clip: w and h are clamped to [0, 1] in (cx, cy, w, h) form, as torchvision's
//   clip=True (the box itself may still extend past the image: its centre is not moved).
// * order: the same as torchvision's: map by map, row by row, column by column, then per
//   cell [s_k, s_k], [s'_k, s'_k], then (w, h) and (h, w) for each ratio a listed --
//   which is the order of a predictor's [A, h, w] map permuted to [h, w, A] (anchors.h).
// * ratios are given as torchvision takes them: each a > 1 listed once means a and 1/a
//   (the paper's {1, 2, 1/2, 3, 1/3} is {2, 3} here), so a cell has 2 + 2 x ratios boxes.
#pragma once
#include <array>
#include <vector>

#include "detection/anchors.h"
#include "detection/boxes.h"

namespace dl {

// s_1..s_m by the paper's formula, then s_{m+1} (see above): m + 1 values. m = 1 gives
// {s_min, s_max}, as torchvision. Throws std::invalid_argument unless 0 < s_min <= s_max
// and m >= 1.
std::vector<double> ssd_scales(double s_min, double s_max, int m);

// The (w, h) of one cell's default boxes, fractions of the image, in the order above;
// clip clamps each to [0, 1]. Throws std::invalid_argument for a ratio <= 0.
std::vector<std::array<float, 2>> cell_default_box_sizes(double s_k, double s_next,
                                                         const std::vector<float>& aspect_ratios,
                                                         bool clip = true);

// One map's default boxes in pixels of an image_w x image_h image (the grading
// exercise `ssd_default_boxes`): for each row, each column, each cell box.
std::vector<Box> map_default_boxes(GridSize grid, double s_k, double s_next,
                                   const std::vector<float>& aspect_ratios, int image_h,
                                   int image_w, bool clip = true);

// Every map's default boxes, concatenated in map order; scales as ssd_scales returns
// them (maps.size() + 1 values). Throws std::invalid_argument on an empty map or a
// scales list of the wrong length.
std::vector<Box> default_boxes(const std::vector<GridSize>& maps, const std::vector<double>& scales,
                               const std::vector<float>& aspect_ratios, int image_h, int image_w,
                               bool clip = true);

}  // namespace dl
