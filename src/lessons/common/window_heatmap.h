// The sliding-window detector's per-class score maps (bin/sliding_window predict
// --heatmap): where the classifier "sees" each class, at any scale or shape.
#pragma once
#include <string>
#include <vector>

#include "detection/sliding_windows.h"
#include "image/image.h"
#include "tensor/tensor.h"

namespace dl::cli {

// One panel per object class, five across: the dimmed image with class k's map in red to
// yellow on top. At each pixel the map is the best score of a window whose central half
// covers it. probs [windows, 1 + classes] (column 0 background), rows in
// all_window_boxes(levels) order.
Image heatmap_grid(const Image& img, const std::vector<PyramidLevel>& levels,
                   const Tensor& probs, const std::vector<std::string>& names);

}  // namespace dl::cli
