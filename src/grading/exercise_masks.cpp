// Exercises on Mask R-CNN's masks (He et al. 2017, §3): the mask targets (a ground-truth
// mask cropped to a positive RoI and resized to M x M by RoIAlign) and pasting a
// predicted M x M mask back into the image at its box, binarised at 0.5; and the keypoint
// branch's one-hot masks (§5): each joint's cell in its RoI's m x m grid.
#include "detection/paste_masks.h"
#include "grading/exercises.h"
#include "models/keypoint_head.h"
#include "models/mask_head.h"

namespace dl::grading {
using json = nlohmann::json;

void add_mask_exercises(std::vector<Exercise>& out) {
  out.push_back({"mask_targets", "Mask R-CNN's mask targets: each RoI's matched mask, RoIAligned to M x M",
                 "src/models/mask_head.cpp (project_masks_on_boxes)",
                 [](const json& in, const ExerciseContext&) {
                   const Tensor masks = tensor_from_json(input(in, "gt_masks"), "gt_masks");
                   if (masks.dim() != 3) throw std::invalid_argument("gt_masks: expected [G, H, W]");
                   const std::vector<Box> rois = boxes_from_json(input(in, "rois"), "rois");
                   const std::vector<int> matched = input(in, "matched").get<std::vector<int>>();
                   const int M = input(in, "M").get<int>();
                   return json{{"targets", tensor_to_json(models::project_masks_on_boxes(masks, rois, matched, M))}};
                 },
                 /*uses*/ {"roi_align_forward"},
                 /*hint*/ "Mask R-CNN, section 3: an RoI's target is the mask of its matched object, "
                          "cropped to the RoI and resampled to M x M by RoIAlign (binarised at 0.5)."});
  out.push_back({"paste_masks", "pasting M x M mask probabilities into the image at their boxes, then > 0.5",
                 "src/detection/paste_masks.cpp (paste_masks_in_image)",
                 [](const json& in, const ExerciseContext&) {
                   const Tensor masks = tensor_from_json(input(in, "masks"), "masks");
                   const std::vector<Box> boxes = boxes_from_json(input(in, "boxes"), "boxes");
                   Tensor b({static_cast<int64_t>(boxes.size()), 4});
                   for (size_t i = 0; i < boxes.size(); ++i) {
                     b[i * 4] = boxes[i].x1;
                     b[i * 4 + 1] = boxes[i].y1;
                     b[i * 4 + 2] = boxes[i].x2;
                     b[i * 4 + 3] = boxes[i].y2;
                   }
                   const Tensor p = paste_masks_in_image(masks, b, input(in, "height").get<int64_t>(),
                                                         input(in, "width").get<int64_t>());
                   return json{{"probabilities", tensor_to_json(p)},
                               {"masks", tensor_to_json(binarize_masks(p, 0.5f))}};
                 },
                 /*uses*/ {},
                 /*hint*/ "Each M x M probability map is resized to its box in the image (bilinear, as in "
                          "torchvision's paste_masks_in_image) into an otherwise empty image of the "
                          "image's size; pixels above 0.5 are the instance."});
  out.push_back({"keypoint_targets", "Mask R-CNN's keypoint targets: each joint's cell in its RoI's m x m grid",
                 "src/models/keypoint_head.cpp (keypoint_targets)",
                 [](const json& in, const ExerciseContext&) {
                   const std::vector<Box> rois = boxes_from_json(input(in, "rois"), "rois");
                   const auto kp = input(in, "keypoints").get<std::vector<std::vector<float>>>();
                   const models::KeypointTargets t = models::keypoint_targets(kp, rois, input(in, "M").get<int>());
                   std::vector<int> valid(t.valid.begin(), t.valid.end());
                   return json{{"index", t.index}, {"valid", valid}};
                 },
                 /*uses*/ {},
                 /*hint*/ "Mask R-CNN, section 5: a joint's target is a one-hot m x m mask over its RoI. "
                          "Scale (x - x1) by m / (x2 - x1) and floor it (likewise y); a joint exactly on "
                          "the right or bottom edge takes the last cell. The flat index is y * m + x; the "
                          "joint counts only when it is labelled (v > 0) and its cell is inside the grid "
                          "(torchvision's keypoints_to_heatmap; index 0 where it does not count)."});
}

}  // namespace dl::grading
