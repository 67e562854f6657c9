// RoIAlign (Mask R-CNN, He et al. 2017, §3): RoI pooling without quantisation. The
// RoI keeps its real-valued corners, each of the out_h x out_w bins gets a regular
// grid of sample points, each sample is read from the feature map by bilinear
// interpolation of its four neighbouring cells, and the bin outputs the samples'
// average. Removing RoI pooling's rounding is what keeps masks aligned with pixels.
//
// Semantics are torchvision.ops.roi_align's exactly:
//   - x [N, C, H, W]; rois [K, 5] = (batch index, x1, y1, x2, y2) in image
//     coordinates, multiplied by spatial_scale; output [K, C, out_h, out_w].
//   - aligned = true shifts the scaled corners by -0.5 so that a cell's centre sits at
//     its index plus 0.5 (the half-pixel convention); aligned = false (the original
//     implementation) instead forces the RoI to be at least 1 x 1 cell.
//   - sampling_ratio > 0 puts that many samples per bin along each axis; <= 0 picks
//     ceil(roi_size / out_size) per axis, adaptively per RoI.
//   - A sample above y = -1 or beyond y = H (same for x) reads 0; otherwise its
//     coordinates are clamped to the map before interpolating.
// The backward pass scatters each output gradient onto the four cells of every sample
// with the bilinear weights, divided by the sample count.
#pragma once
#include <vector>

#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace dl {

Tensor roi_align_forward(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                         float spatial_scale, int sampling_ratio = -1, bool aligned = false);
Tensor roi_align_backward(const Tensor& gy, const Tensor& rois, const Shape& x_shape,
                          float spatial_scale, int sampling_ratio = -1, bool aligned = false);

// The plain definition, one output element at a time (the tests' oracle for the
// forward pass above, which precomputes the sample weights once per RoI).
Tensor roi_align_reference(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                           float spatial_scale, int sampling_ratio = -1, bool aligned = false);

// Where RoIAlign reads one RoI (x1, y1, x2, y2 in image coordinates): the sample points
// in feature-map coordinates (cell index + fraction; a cell's centre is at index + 0.5),
// bin by bin in row-major order, each bin's grid row by row. The kernels' own geometry,
// for pictures and for tests that tie a picture to what the kernels compute.
struct SamplePoint {
  float x, y;
};
std::vector<SamplePoint> roi_align_sample_points(const float box[4], int64_t out_h, int64_t out_w,
                                                 float spatial_scale, int sampling_ratio = -1,
                                                 bool aligned = false);

namespace ag {
// Differentiable in x only.
Var roi_align(const Var& x, const Tensor& rois, int64_t out_h, int64_t out_w, float spatial_scale,
              int sampling_ratio = -1, bool aligned = false);
}  // namespace ag

}  // namespace dl
