// RoI max pooling (Fast R-CNN, Girshick 2015, §2.1): each region of interest on a
// shared feature map is divided into an out_h x out_w grid of sub-windows of about
// h/out_h x w/out_w cells, and each sub-window is max-pooled, giving a fixed-size
// feature per RoI whatever the RoI's size.
//
// Semantics are torchvision.ops.roi_pool's exactly, so its dumps compare 1:1:
//   - x is [N, C, H, W]; rois is [K, 5] rows (batch index, x1, y1, x2, y2) in input
//     image coordinates; spatial_scale maps them onto the map (1/16 for a stride-16
//     backbone). The output is [K, C, out_h, out_w].
//   - Corners are rounded to the nearest cell (half away from zero), the RoI spans
//     the inclusive cell range, at least 1 x 1 cell ("quantisation", which RoIAlign
//     removes).
//   - Bin (i, j) covers rows [floor(i*h/out_h), ceil((i+1)*h/out_h)) offset by the
//     RoI's start and clipped to the map; an empty bin outputs 0.
// The backward pass routes each output gradient to the cell that won its bin.
#pragma once
#include <vector>

#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace dl {

// argmax[i] is the flat index (iy * W + ix) within the RoI's (batch, channel) plane
// of the cell output element i took, or -1 for an empty bin; the first maximum in
// row-major order wins ties, as in torchvision. keep_argmax = false (inference) leaves
// argmax empty.
struct RoiPoolResult {
  Tensor y;
  std::vector<int64_t> argmax;
};
RoiPoolResult roi_pool_forward(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                               float spatial_scale, bool keep_argmax = true);
Tensor roi_pool_backward(const Tensor& gy, const Tensor& rois, const std::vector<int64_t>& argmax,
                         const Shape& x_shape);

// The cells RoI pooling's bins cover for one RoI (x1, y1, x2, y2 in image coordinates) on
// an H x W map: bin (i, j) takes rows [rows[2i], rows[2i+1]) and columns
// [cols[2j], cols[2j+1]) (empty when they are equal). The kernels' own quantisation, for
// pictures and tests.
struct RoiPoolBins {
  std::vector<int64_t> rows, cols;
};
RoiPoolBins roi_pool_bins(const float box[4], int64_t out_h, int64_t out_w, float spatial_scale,
                          int64_t H, int64_t W);

// Checks rois is [K, 5] with integral batch indices in [0, n_images) and finite
// coordinates; shared by every RoI op. `op` names the caller in the message.
void check_rois(const Tensor& rois, int64_t n_images, const char* op);

namespace ag {
// Differentiable in x only: the RoIs are data (proposals), not parameters.
Var roi_pool(const Var& x, const Tensor& rois, int64_t out_h, int64_t out_w, float spatial_scale);
}  // namespace ag

}  // namespace dl
