// Synthetic pose figures for the human pose estimation lesson (DeepPose, Toshev &
// Szegedy 2014): articulated stick figures with thick limbs and a round head, in
// random plausible poses, annotated with 14 joints as COCO keypoints.
//
// Joint order is the Leeds Sports Pose (LSP) order used by DeepPose; the names are
// the lecture's (foot = ankle, hand = wrist):
//    0 right foot      1 right knee     2 right hip      3 left hip
//    4 left knee       5 left foot      6 right hand     7 right elbow
//    8 right shoulder  9 left shoulder 10 left elbow    11 left hand
//   12 neck           13 head top
// "Right" is the figure's own right: on the image's left when it faces the camera.
// 30 % of the figures face away. The image tells which: from the front a face (skin,
// eyes, hair only as a cap) and an open collar, from behind the back of the head (all
// hair) and a plain collar. Limbs are painted alike on both sides, as clothes are, so a
// left/right mirror with the joint names exchanged is again a valid figure.
//
// Visibility follows COCO: v = 2 visible, v = 1 inside the image but hidden under a
// distractor blob, v = 0 outside the image (then x = y = 0). Limbs hiding other limbs
// do not count as occlusion (LSP labels such joints too).
//
// Coordinates are continuous image coordinates: pixel (i, j) covers [i, i+1) x [j, j+1).
//
// Determinism: figure i draws only from Rng(seed).fork(i).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/coco.h"
#include "data/rle.h"
#include "image/draw.h"
#include "image/image.h"

namespace dl {

constexpr int kFigureJoints = 14;

// "right_foot", "right_knee", ..., "neck", "head_top" in the order above.
const std::vector<std::string>& figure_joint_names();
// The skeleton's limbs as 0-based joint pairs (legs, hips, torso sides, shoulders to
// neck, arms, neck to head top).
const std::vector<std::pair<int, int>>& figure_limbs();
// Category 1 "person" with the joint names and the skeleton (1-based, as COCO).
CocoCategory figure_category();

struct FigureOptions {
  int width = 128, height = 128;
  int64_t count = 100;
  uint64_t seed = 1;
  // The figure's standing height (feet to head top, before posing) as a fraction of
  // the image height.
  float min_height = 0.45f, max_height = 0.9f;
  float occlusion_prob = 0.3f;  // chance that an image gets blobs over some joints
  float outside_prob = 0.15f;   // chance that the figure is pushed partly out of view
  // Brightness of the left arm and leg relative to the right ones. 1 (the default): both
  // sides alike, as people are; < 1 marks the left side like a motion-capture suit, a
  // chiral cue that a mirrored training image contradicts (lessons/02, exercise 3).
  float left_shade = 1.0f;
};

// Throws std::invalid_argument naming the offending option.
void validate(const FigureOptions& o);

struct Occluder {
  float x = 0, y = 0, radius = 0;  // a disc, continuous coordinates
};

struct Figure {
  Image image;                                   // RGB
  std::array<std::array<float, 2>, kFigureJoints> joints{};  // true positions, even outside
  std::vector<Keypoint> keypoints;               // COCO annotation: x, y, v per joint
  std::vector<Occluder> occluders;
  float body_height = 0;                         // standing height in pixels (the scale)
  bool faces_camera = true;                      // false: seen from the back
  Color skin, hair;                              // face/hands and hair colours
  Mask mask;                                     // the figure's visible pixels
  int64_t area = 0;
  std::array<double, 4> bbox{};                  // tight box of the mask
};

// `textures` as load_textures() (may be empty: then no texture backgrounds).
Figure generate_figure(const FigureOptions& options, const std::vector<Image>& textures,
                       int64_t index);

// The figure's COCO annotation (category 1, keypoints, bbox, area, RLE mask).
CocoAnnotation figure_annotation(const Figure& figure, int64_t image_id);

}  // namespace dl
