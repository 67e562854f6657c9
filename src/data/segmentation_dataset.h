// A semantic segmentation dataset in memory: the generated scenes' images with their
// semantic masks (bin/datagen scenes writes DIR/masks/<name>.png beside
// DIR/images/<name>.png: pixel = COCO category id of the object it shows, 0 background;
// VOC's 255 "void" is kept as the ignore label). The labels become class indices
// 0 = background, 1..K = the categories in id order, so a network's K + 1 outputs line
// up with `class_names`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.h"

namespace dl {

constexpr int kIgnoreLabel = 255;  // a mask pixel no loss or score counts

struct SegmentationItem {
  Image image;  // RGB
  Image labels;  // 1 channel, same size: 0 background, 1..K classes, kIgnoreLabel
};

struct SegmentationDataset {
  std::string dir;
  std::vector<std::string> class_names;  // "background", then the categories in id order
  std::vector<std::string> file_names;   // each item's image file name (annotations.json)
  std::vector<SegmentationItem> items;
};

// DIR/annotations.json (images and categories, as load_detection_dataset reads them),
// each image and DIR/masks/<image's stem>.png. `limit` > 0 keeps the first images only.
// Throws FileError naming the file for a missing or corrupt mask, a mask whose size
// differs from its image's, or a mask value that is no category (nor 0 or 255).
SegmentationDataset load_segmentation_dataset(const std::string& dir, int64_t limit = 0);

// The mask file of an image: DIR/masks/<stem>.png.
std::string mask_path(const std::string& dir, const std::string& image_file_name);

}  // namespace dl
