// Pictures of per-pixel labels (lesson 07): each class in its PASCAL VOC colour blended
// over the image, background left as it is, and panels (prediction | ground truth)
// side by side, enlarged so that a 128-pixel scene can be looked at.
#pragma once
#include <vector>

#include "image/image.h"

namespace dl::cli {

// labels: 1 channel, the image's size; 0 (background) and 255 (ignore) are not drawn.
Image colour_labels(const Image& img, const Image& labels, float alpha = 0.55f);

// Equal-sized RGB panels, each enlarged `scale` times (nearest), 8 white pixels apart.
Image side_by_side(const std::vector<Image>& panels, int scale);

}  // namespace dl::cli
