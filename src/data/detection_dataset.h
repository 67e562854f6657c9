// A detection dataset in memory: a COCO annotation file and its images, decoded once,
// with each image's boxes and 0-based class labels ready for training. Every
// detection lesson (classify_localize, rcnn, ..., mask_rcnn) reads its data this way,
// from a directory written by `bin/datagen scenes` or any COCO-style directory:
//   DIR/annotations.json   COCO: images, categories, annotations
//   DIR/<file_name> or DIR/images/<file_name>
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/coco.h"
#include "detection/boxes.h"
#include "image/image.h"

namespace dl {

struct DetectionItem {
  int64_t image_id = 0;
  Image image;                 // RGB
  std::vector<Box> boxes;      // xyxy pixels, crowd annotations excluded
  std::vector<int> labels;     // 0-based index into DetectionDataset::class_names
};

struct DetectionDataset {
  std::string dir;
  CocoDataset coco;                       // the file as read (for COCO evaluation)
  std::vector<std::string> class_names;   // in category-id order
  std::vector<int64_t> category_ids;      // class index -> COCO category id
  std::vector<DetectionItem> items;       // in the file's image order
  int class_of(int64_t category_id) const;  // -1 when unknown
};

// Loads DIR/annotations.json and its images (decoded in parallel; the result does not
// depend on thread count). `limit` > 0 keeps only the first `limit` images (and their
// annotations, in `coco` too). Throws
// FileError naming the file for a missing directory, JSON or image, a corrupt image,
// or an image whose size differs from the JSON's width/height.
DetectionDataset load_detection_dataset(const std::string& dir, int64_t limit = 0);

}  // namespace dl
