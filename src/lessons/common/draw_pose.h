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

}  // namespace dl::cli
