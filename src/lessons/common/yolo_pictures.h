// `yolo predict --show-grid`: the paper's Figure 2 for one image -- the S x S grid, each
// cell's B boxes drawn as they come out of the network (before thresholding and NMS),
// their width and opacity growing with the box's confidence, and the class probability
// map (every cell filled with the colour of its most probable class), next to each other
// with a legend of the class colours.
#pragma once
#include <string>
#include <vector>

#include "image/image.h"
#include "models/yolo.h"

namespace dl::cli {

// out: the image's output [S, S, 5B + C] (Yolo::predict's values); classes: C names.
Image yolo_grid_picture(const Image& img, const float* out, const models::YoloConfig& cfg,
                        const std::vector<std::string>& classes);

}  // namespace dl::cli
