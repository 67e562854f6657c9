// What `deeppose predict` shows: the predicted skeleton drawn on the image -- the
// figures' limbs (data/figures.h) as lines, the joints as dots, optionally their
// names -- and the same joints as JSON.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/image.h"

namespace dl::cli {

// The image with `pose` (x, y per joint, in the image's pixels) drawn. Small images are
// enlarged (to about 384 px) so that the skeleton and names stay readable. Limbs in the
// figure's right side in one colour, left side in another, the centre (hips, shoulders
// to neck, head) in a third, as pose papers draw them.
Image draw_pose(const Image& img, const std::vector<float>& pose,
                const std::vector<std::string>& names, bool with_names);

// [{"name", "x", "y"}...] in the image's own pixel coordinates.
nlohmann::json pose_json(const std::vector<float>& pose, const std::vector<std::string>& names);

// One image of `deeppose predict`: the pose of stage `drawn` (1-based) of `stage_poses`
// (one pose per stage) drawn to OUT_DIR/STEM.deeppose[SUFFIX].png, and the image's JSON
// entry {"image", "width", "height", "stages": [{"stage", "joints"}...], "annotated"}.
nlohmann::json save_pose_prediction(const std::string& path, const Image& img,
                                    const std::vector<std::vector<float>>& stage_poses, int drawn,
                                    const std::string& suffix, const std::vector<std::string>& names,
                                    bool with_names, const std::string& out_dir);

// The "  NAME  (x, y)" lines of a pose, one per joint.
void print_pose(const std::vector<float>& pose, const std::vector<std::string>& names);

}  // namespace dl::cli
