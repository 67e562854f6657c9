// Spatial pyramid pooling (He, Zhang, Ren & Sun, "Spatial Pyramid Pooling in Deep
// Convolutional Networks for Visual Recognition", ECCV 2014). SPP-net runs the conv
// layers once per image and, for every candidate window, max-pools the window's part
// of the last conv map over a pyramid of n x n grids: C * sum(n^2) numbers whatever
// the window's size or shape, so the fully connected layers that follow accept every
// window without warping it (§2.3; detection uses levels {6, 3, 2, 1}, §4.1).
//
// One level over one window is RoI max pooling with an n x n grid — Fast R-CNN calls
// its RoI pooling layer "a special case of the spatial pyramid pooling layer used in
// SPPnets in which there is only one pyramid level" (Fast R-CNN §2.1) — so each level
// here is roi_pool (src/detection/roi_pool.h) on the window's cells, and the levels are
// concatenated. What SPP-net adds is how a window becomes cells (appendix A): a corner
// maps to the feature cell whose receptive-field centre lies closest inside the window.
#pragma once
#include <vector>

#include "autograd/variable.h"
#include "detection/boxes.h"
#include "tensor/tensor.h"

namespace dl {

// The inclusive cell range [x0, x1] x [y0, y1] of a window on a map of map_w x map_h
// cells, each `stride` image pixels wide (the product of the strides before it). Cell
// c's centre is at image x = (c + 0.5) * stride; the range holds the cells whose
// centres lie inside the window, clipped to the map. A window narrower than a cell
// gets the one cell under its centre.
struct CellRange {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
CellRange project_window(const Box& window, float stride, int map_w, int map_h);

// Rows (batch index, x0, y0, x1, y1) of cell ranges, ready for spp_pool: one row per
// window, all from image `batch_index`.
Tensor spp_rois(const std::vector<Box>& windows, int batch_index, float stride, int map_w,
                int map_h);

// x [N, C, H, W], rois [K, 5] in cells (see spp_rois) -> [K, C * sum(n^2)]: level by
// level in the order given, each level's [C, n, n] block flattened channel-major.
Tensor spp_pool_forward(const Tensor& x, const Tensor& rois, const std::vector<int>& levels);

// The plain version: loops over windows, levels, bins and cells; the tests' oracle.
Tensor spp_pool_reference(const Tensor& x, const Tensor& rois, const std::vector<int>& levels);

namespace ag {
// Differentiable in x (each output's gradient goes to the cell that won its bin).
Var spp_pool(const Var& x, const Tensor& rois, const std::vector<int>& levels);
}  // namespace ag

}  // namespace dl
