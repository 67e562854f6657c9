// The input pipeline of networks trained with TensorFlow.js (face-api): the photo padded
// with zeros on the right or bottom to a square, then resized to size x size by
// TensorFlow's resize_bilinear with align_corners = false and half_pixel_centers = false:
// output pixel o reads source position o * in / out (no half-pixel shift, unlike
// resize_bilinear in transforms.h), interpolated in double as tfjs's CPU kernel does,
// rounded to float once. Returns [1, 3, size, size] with values 0..255.
#pragma once
#include "image/image.h"
#include "tensor/tensor.h"

namespace dl {

Tensor tf_square_resize(const Image& img, int size);

// The resized image's side lengths before padding, as face-api rounds them: the boxes a
// network finds are relative to this, not to the padded square.
struct ResizedSides {
  double width, height;
};
ResizedSides tf_resized_sides(int image_w, int image_h, int size);

}  // namespace dl
