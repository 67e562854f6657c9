// Position-sensitive RoI pooling (R-FCN, Dai et al. 2016, §2). A fully convolutional
// head makes k x k "score maps" per output channel, each responsible for one relative
// position in an object (top-left, ..., bottom-right). Bin (i, j) of a RoI is
// average-pooled from score map (i, j) only, so the per-RoI work is a cheap pooling
// and no per-RoI layers are needed.
//
// Semantics are torchvision.ops.ps_roi_pool's exactly:
//   - x [N, C_out * out_h * out_w, H, W]; rois [K, 5] = (batch index, x1, y1, x2, y2)
//     in image coordinates; output [K, C_out, out_h, out_w].
//   - Output (c, i, j) reads input channel (c * out_h + i) * out_w + j.
//   - Corners are rounded to the nearest cell; the RoI is x2 - x1 cells wide (at least
//     1), bins are [floor(i*h/out_h), ceil((i+1)*h/out_h)) offset and clipped to the
//     map, and each bin outputs its mean (0 when empty).
// The backward pass spreads each output gradient evenly over its bin.
// torchvision 0.14's CPU forward clips bins one row/column short (to H - 1, W - 1)
// while its backward and its CUDA kernels clip to H, W; detlab follows the latter, so
// forward and gradient agree (tests/test_torchvision_roi.cpp checks against J x, J
// the Jacobian torchvision's backward gives).
#pragma once
#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace dl {

Tensor ps_roi_pool_forward(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                           float spatial_scale);
Tensor ps_roi_pool_backward(const Tensor& gy, const Tensor& rois, const Shape& x_shape,
                            float spatial_scale);

namespace ag {
// Differentiable in x only.
Var ps_roi_pool(const Var& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                float spatial_scale);
}  // namespace ag

}  // namespace dl
