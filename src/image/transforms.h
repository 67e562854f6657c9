// Geometric and numeric transforms of images: resize, crop, pad, R-CNN's box warp,
// and the bridge to the network's [C,H,W] float tensors.
//
// Coordinates: continuous pixel coordinates, pixel (i, j) covers [i, i+1) x [j, j+1)
// and its centre is (i + 0.5, j + 0.5). A box (x0, y0, x1, y1) covers x0 <= x < x1.
#pragma once
#include <vector>

#include "image/image.h"
#include "tensor/tensor.h"

namespace dl {

// What bilinear sampling reads outside the image: the nearest edge pixel (resize),
// or a constant colour (warps and crops that reach past the border).
enum class Border { Clamp, Constant };

// Bilinear sample of channel c at continuous position (x, y) (pixel centres at +0.5).
float sample_bilinear(const Image& img, float x, float y, int c, Border border, float fill);

// Maps the region (x0, y0, x1, y1) of `img` onto an out_w x out_h image, bilinear,
// anisotropic (each axis stretched independently). `fill` (one value per channel, or
// empty for zeros) colours samples outside `img`.
Image warp_region(const Image& img, float x0, float y0, float x1, float y1, int out_w, int out_h,
                  const std::vector<uint8_t>& fill = {}, Border border = Border::Constant);

// The plain definition (transforms_reference.cpp): one sample_bilinear per output
// sample and channel. The tests' oracle for warp_region.
Image warp_region_reference(const Image& img, float x0, float y0, float x1, float y1, int out_w,
                            int out_h, const std::vector<uint8_t>& fill = {},
                            Border border = Border::Constant);

// Bilinear resize with half-pixel centres (OpenCV's / PyTorch's align_corners=false).
Image resize_bilinear(const Image& img, int out_w, int out_h);

// The image reduced so that its longer side is at most max_side (aspect ratio kept,
// rounded), each output pixel the rounded mean of the source pixels it covers (a box
// filter: bilinear sampling would alias a large reduction). Smaller images are returned
// unchanged.
Image shrink_to_fit(const Image& img, int max_side);

// Copies the w x h window at (x, y); parts outside `img` get `fill` (per channel or
// empty for zeros). No interpolation.
Image crop(const Image& img, int x, int y, int w, int h, const std::vector<uint8_t>& fill = {});

// Adds borders of constant colour.
Image pad(const Image& img, int left, int top, int right, int bottom,
          const std::vector<uint8_t>& fill = {});

// The per-channel mean colour, rounded (R-CNN fills warp context outside the image
// with the image mean, so it becomes zero after mean subtraction).
std::vector<uint8_t> image_mean(const Image& img);

// R-CNN's region warp (Girshick et al. 2014, appendix A): dilate the box so that,
// after warping to out_size x out_size, exactly `context` pixels of the original
// image surround the box on every side, then warp anisotropically.
Image warp_box_with_context(const Image& img, float x0, float y0, float x1, float y1,
                            int out_size, int context = 16,
                            const std::vector<uint8_t>& fill = {});

// HWC uint8 -> [C, H, W] float, each value multiplied by `scale` (1/255 gives [0, 1]).
Tensor image_to_tensor(const Image& img, float scale = 1.0f / 255.0f);
// [C, H, W] float -> HWC uint8: value * scale, rounded and clamped to [0, 255].
Image tensor_to_image(const Tensor& chw, float scale = 255.0f);
// Same-sized images -> [N, C, H, W]; throws ShapeError if sizes differ.
Tensor images_to_batch(const std::vector<Image>& images, float scale = 1.0f / 255.0f);
// Left-right mirror of a [C, H, W] (or [N, C, H, W]) tensor: column x becomes W - 1 - x.
Tensor hflip(const Tensor& t);
// (Its boxes mirror with hflip_box, detection/boxes.h.)

// (x - mean[c]) / std[c] in place, for [C, H, W] or [N, C, H, W].
void normalize_channels_(Tensor& t, const std::vector<float>& mean, const std::vector<float>& std);

}  // namespace dl
