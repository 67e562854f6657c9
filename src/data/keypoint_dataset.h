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

// ---- which side is "right" (the pose figures of src/data/figures.h) ------------------
// The figures' left and right limbs are painted alike and 30 % of them face away from
// the camera. A figure seen from the back is then, pixel for pixel, a figure seen from
// the front with left and right exchanged: the image cannot say which labelling is
// meant. An L2 regressor trained on such person-centric labels learns the conditional
// mean, 0.7 x one limb + 0.3 x its mirror twin: hands and feet pulled to the midline.
// Relabelling every training figure as if it faced the camera (an observer-centric
// convention, as some pose data sets use) makes the target a function of the image.

// The left/right mirror of the 14 figure joints: right foot <-> left foot, ...
const std::vector<int>& figure_mirror();
// Whether 14 COCO keypoints (x, y, v each) face the camera: the figure's right hip
// (else shoulder) lies to the right of its "up" direction (mid-hip -> neck, else neck
// -> head top) as the figure sees it, i.e. on the image's left when upright. True when
// neither pair is labelled.
bool faces_camera(const std::vector<float>& keypoints);
// Exchanges left and right joints (x, y and v) when the figure faces away.
void relabel_facing_camera(std::vector<float>& keypoints);

// Loads DIR (see load_detection_dataset for the directory layout and image errors);
// `limit` > 0 keeps the first images only. Every image must have exactly one
// annotation with keypoints of the category's length: otherwise FileError naming
// annotations.json and the image.
KeypointDataset load_keypoint_dataset(const std::string& dir, int64_t limit = 0);

}  // namespace dl
