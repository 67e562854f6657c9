// Single-person keypoint data (the pose lessons): a COCO keypoints directory as
// `bin/datagen figures` writes it (DIR/annotations.json + DIR/images/*.png), one
// person per image, decoded once into memory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "detection/boxes.h"
#include "image/image.h"

namespace dl {

struct KeypointItem {
  int64_t image_id = 0;
  std::string file_name;
  Image image;                  // RGB
  std::vector<float> keypoints; // x, y, v per joint (COCO layout, 3K values)
  Box box;                      // the person's box (xyxy pixels)
};

struct KeypointDataset {
  std::string dir;
  std::vector<std::string> joint_names;  // the person category's keypoint names
  std::vector<KeypointItem> items;       // in the file's image order
  int num_joints() const { return static_cast<int>(joint_names.size()); }
};

// Loads DIR (see load_detection_dataset for the directory layout and image errors);
// `limit` > 0 keeps the first images only. Every image must have exactly one
// annotation with keypoints of the category's length: otherwise FileError naming
// annotations.json and the image.
KeypointDataset load_keypoint_dataset(const std::string& dir, int64_t limit = 0);

}  // namespace dl
