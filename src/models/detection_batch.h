// A detector's training batch as the shared backbone reads it: N images, each mirrored
// with probability 1/2, normalised (backbone_input) and padded to the largest, with their
// (mirrored) ground-truth boxes. Faster R-CNN and SSD train on it as it is; Fast R-CNN
// adds its sampled RoIs and YOLO resizes first, both through copy_into_batch.
#pragma once
#include <cstdint>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/boxes.h"
#include "image/image.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

namespace dl::models {

struct DetectionBatch {
  Tensor images;  // [N, 3, H, W], zero (= the mean colour) right and below a smaller image
  std::vector<int> widths, heights;
  std::vector<std::vector<Box>> boxes;
  std::vector<std::vector<int>> labels;  // object classes 0..K-1
  std::vector<bool> flipped;             // image n was mirrored (its masks must be too)
};

// Images idx of ds; one rng.bernoulli(0.5) per image when `flip`.
DetectionBatch make_detection_batch(const DetectionDataset& ds, const std::vector<int64_t>& idx,
                                    bool flip, Rng& rng);

// Image n of a padded batch [N, 3, H, W]: backbone_input(img, flip) copied to its
// top-left corner (the rest stays zero = the mean colour).
void copy_into_batch(const Image& img, bool flip, Tensor& batch, int64_t n);

}  // namespace dl::models
