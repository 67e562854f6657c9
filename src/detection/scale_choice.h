// Multi-scale feature extraction (He, Zhang, Ren & Sun, SPP-net, ECCV 2014, §4.2): the
// image is resized to several scales and the conv map computed at each; every candidate
// window is then pooled from ONE of those maps — the scale at which the window's area
// comes closest to the area of the network's pretraining input (224 x 224 in the paper,
// where S = {480, 576, 688, 864, 1200} for the shorter side). Big windows are so read
// from a shrunken image and small ones from an enlarged one, and every window reaches
// the fc layers at roughly the size the convs were trained on.
//
// Here the pretraining input is lesson 00's 28 x 28 Fashion-MNIST item, and scales are
// factors of the original image size (1 = the image as it is).
#pragma once
#include <vector>

#include "detection/boxes.h"

namespace dl {

// Index into `scales` of the scale s whose scaled window area s^2 * w * h is closest to
// target_side^2 (absolute difference in pixels, as the paper counts). Ties go to the
// earlier scale. A degenerate window (area 0) picks the largest scale. scales must be
// non-empty and positive.
int choose_scale(const Box& window, const std::vector<float>& scales, float target_side);

// The window in the coordinates of the image resized by (sx, sy) (x by sx, y by sy).
Box scale_box(const Box& window, float sx, float sy);

}  // namespace dl
