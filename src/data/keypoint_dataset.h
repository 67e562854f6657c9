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
// A figure's left and right limbs look alike, as a person's do; what tells them apart is
// which way it faces: front views show a face, back views the back of the head
// (src/data/figures.cpp). Without that cue a figure seen from the back would be, pixel
// for pixel, a front view with left and right exchanged, and an L2 regressor would
// learn the mean of the two labellings (hands and feet pulled to the midline).
// relabel_facing_camera gives the observer-centric convention some pose data sets use
// instead (`bin/deeppose train --facing-camera`); the default keeps the person's own
// left and right.

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
