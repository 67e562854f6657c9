// Pasting Mask R-CNN's per-RoI masks back into the image (He et al. 2017, §3.1
// "Inference"): the M x M mask predicted for a detection is resized to the detection's
// box with bilinear interpolation and binarised at 0.5. Not differentiable: it runs
// only at inference time.
//
// Semantics are torchvision's paste_masks_in_image exactly:
//   - the mask is padded by `padding` zero cells on every side and the box enlarged
//     about its centre by (M + 2 padding) / M to match, so the mask's border
//     interpolates towards 0 instead of being cut off at the box edge;
//   - the enlarged box is truncated to integer pixels (x1, y1, x2, y2), the padded
//     mask resized to (y2 - y1 + 1) x (x2 - x1 + 1) (at least 1 x 1, bilinear,
//     align_corners = false) and copied to rows y1..y2, columns x1..x2, clipped to
//     the image; everything else is 0.
// (torchvision's Python slicing turns a box lying wholly left of or above the image
// into wrap-around indices; here such a box simply pastes nothing.)
#pragma once
#include "tensor/tensor.h"

namespace dl {

// masks [K, M, M] or [K, 1, M, M] probabilities; boxes [K, 4] (x1, y1, x2, y2) in
// image pixels. Returns the probabilities pasted into [K, im_h, im_w] (or
// [K, 1, im_h, im_w], following the masks' layout).
Tensor paste_masks_in_image(const Tensor& masks, const Tensor& boxes, int64_t im_h, int64_t im_w,
                            int padding = 1);

// 1 where p > threshold, else 0 (the 0.5 of Mask R-CNN and of COCO's evaluation).
Tensor binarize_masks(const Tensor& probs, float threshold = 0.5f);

}  // namespace dl
