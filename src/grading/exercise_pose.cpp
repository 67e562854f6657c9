// Exercise on the DeepPose cascade (lesson 02): the targets of one refinement window,
// its own joint and the labelled joints near its centre.
#include "grading/exercises.h"
#include "models/deeppose.h"

namespace dl::grading {
using json = nlohmann::json;

void add_pose_exercises(std::vector<Exercise>& out) {
  out.push_back({"window_targets",
                 "a cascade window's targets: its joint, plus the labelled joints within radius",
                 "src/models/deeppose.cpp (window_targets)",
                 [](const json& in, const ExerciseContext&) {
                   const std::vector<float> kp = floats_from_json(input(in, "keypoints"), "keypoints");
                   if (kp.empty() || kp.size() % 3 != 0)
                     throw std::invalid_argument("input keypoints: x, y, v per joint");
                   const std::vector<float> w = floats_from_json(input(in, "window"), "window");
                   if (w.size() != 4) throw std::invalid_argument("input window: [cx, cy, w, h]");
                   const size_t K = kp.size() / 3;
                   std::vector<float> target(2 * K), mask(2 * K);
                   models::window_targets(kp, input(in, "joint").get<int>(), {w[0], w[1], w[2], w[3]},
                                      input(in, "radius").get<float>(), target.data(), mask.data());
                   return json{{"target", matrix_to_json(target, K, 2)},
                               {"mask", matrix_to_json(mask, K, 2)}};
                 },
                 /*uses*/ {},
                 /*hint*/ "DeepPose, section 3.2: each joint in the window's normalised coordinates; the "
                          "window's own joint always counts, the other labelled joints only when both |u| "
                          "and |v| are <= radius; targets and mask are 0 for the rest."});
}

}  // namespace dl::grading
