// Bilinear resizing of [N, C, H, W] feature maps (FCN's and Mask R-CNN's upsampling),
// with torch.nn.functional.interpolate's two coordinate conventions:
//   align_corners = false: pixel centres line up, src = (dst + 0.5) * in/out - 0.5,
//                          clamped at 0;
//   align_corners = true:  corner pixels line up, src = dst * (in - 1)/(out - 1).
// Each output mixes the 2x2 input pixels around src with weights (1 - f, f) per axis.
#pragma once
#include "tensor/tensor.h"

namespace dl {

Tensor upsample_bilinear2d_forward(const Tensor& x, int64_t out_h, int64_t out_w,
                                   bool align_corners);
// Scatters each output gradient back onto its 2x2 source pixels with the same weights.
Tensor upsample_bilinear2d_backward(const Tensor& gy, const Shape& x_shape, bool align_corners);

}  // namespace dl
