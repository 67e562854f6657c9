// Lesson 07's picture of RoI pooling against RoIAlign on one RoI (Mask R-CNN, He et al.
// 2017, §3 and Fig. 3): the image around the RoI, enlarged, under the feature map's grid
// of cells (`stride` pixels each), in two panels.
//  - left, RoI pooling (Fast R-CNN): the RoI rounded to whole cells (red) against its real
//    outline (green); each of the pool x pool bins takes whole cells (shaded in turn), so
//    bins are uneven, overlap, and are shifted off the object;
//  - right, RoIAlign: the real outline split into equal bins (yellow), each read at a
//    regular grid of sample points (red dots) by bilinear interpolation.
// The geometry comes from the kernels themselves (roi_pool_bins, roi_align_sample_points),
// so the picture shows what they compute.
#pragma once
#include "detection/boxes.h"
#include "image/image.h"

namespace dl::cli {

// `roi` in image pixels; `sampling_ratio` as roi_align's (> 0: that many per bin side).
Image roi_sampling_picture(const Image& img, const Box& roi, int stride, int pool,
                           int sampling_ratio);

}  // namespace dl::cli
