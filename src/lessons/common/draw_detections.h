// What every detector's `predict` shows: the boxes drawn in their class colours with
// "class score" labels, and the same detections as JSON. One look for all programs, so
// a student can set lesson 03's and lesson 04's pictures side by side.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/image.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/ground_truth.h"

namespace dl::cli {

// The image with `dets` drawn, the best-scoring last (on top), masks translucent. Small scenes are drawn
// enlarged (to about 384 px) so that the labels leave the objects visible. `truth` (predict
// --gt) is drawn over them as dashed black-and-white outlines -- no class colour, so it
// is never taken for a detection -- labelled "GT class" under the box.
Image draw_detections(const Image& img, const std::vector<Detection>& dets,
                      const std::vector<std::string>& classes,
                      const std::vector<TruthBox>& truth = {});

// [{"class", "score", "box_xyxy"}...] in the image's own pixel coordinates; a detection
// with a width x height mask also gets "segmentation": COCO's compressed RLE {"size",
// "counts"}.
nlohmann::json detections_json(const std::vector<Detection>& dets,
                               const std::vector<std::string>& classes, int width = 0,
                               int height = 0);

}  // namespace dl::cli
