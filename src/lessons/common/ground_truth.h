// `predict --gt`: the ground truth of an image that belongs to a COCO split (a scene of
// bin/datagen, a labelme sample), found from the image's path alone -- the split is the
// folder holding annotations.json, the image in it or in its images/ folder -- so a
// student sees what the detector should have found beside what it found.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/coco.h"
#include "detection/boxes.h"

namespace dl::cli {

struct TruthBox {
  Box box;            // xyxy pixels of the file as annotated
  std::string label;  // the category's name
};

// Reads each split's annotations.json once per run.
class GroundTruthFinder {
 public:
  // The boxes annotated for `image_path`, or nothing when no annotations.json beside it
  // (or one folder up) lists the file. A malformed annotations.json is a FileError.
  std::optional<std::vector<TruthBox>> find(const std::string& image_path);

 private:
  std::map<std::string, CocoDataset> splits_;
};

}  // namespace dl::cli
