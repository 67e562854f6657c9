// Exercises on RoI feature extraction: RoI max pooling (Fast R-CNN) and RoIAlign
// (Mask R-CNN), forward and backward.
#include "detection/roi_align.h"
#include "detection/roi_pool.h"
#include "grading/exercises.h"

namespace dl::grading {
using json = nlohmann::json;

namespace {

struct RoiArgs {
  Tensor x, rois;
  int64_t out_h = 0, out_w = 0;
  float scale = 1;
  int sampling_ratio = -1;
  bool aligned = false;
};

RoiArgs roi_args(const json& in) {
  RoiArgs a;
  a.x = tensor_from_json(input(in, "x"), "x");
  a.rois = tensor_from_json(input(in, "rois"), "rois");
  const json& size = input(in, "output_size");
  a.out_h = size[0].get<int64_t>();
  a.out_w = size[1].get<int64_t>();
  a.scale = in.value("spatial_scale", 1.0f);
  a.sampling_ratio = in.value("sampling_ratio", -1);
  a.aligned = in.value("aligned", false);
  return a;
}

}  // namespace

void add_roi_exercises(std::vector<Exercise>& out) {
  out.push_back({"roi_pool_forward", "RoI max pooling: quantised RoI, max over each bin",
                 "src/detection/roi_pool.cpp (roi_pool_forward)", [](const json& in, const ExerciseContext&) {
                   const RoiArgs a = roi_args(in);
                   RoiPoolResult r = roi_pool_forward(a.x, a.rois, a.out_h, a.out_w, a.scale);
                   return json{{"y", tensor_to_json(r.y)}, {"argmax", r.argmax}};
                 },
                 /*uses*/ {},
                 /*hint*/ "Fast R-CNN, section 2.1: scale the RoI to the feature map and round it, split "
                          "it into out_h x out_w bins (floor of the start, ceil of the end), and take the "
                          "maximum of each bin (0 for an empty bin), remembering where it was."});
  out.push_back({"roi_pool_backward", "RoI max pooling: gradient routed to each bin's maximum",
                 "src/detection/roi_pool.cpp (roi_pool_backward)", [](const json& in, const ExerciseContext&) {
                   const RoiArgs a = roi_args(in);
                   RoiPoolResult r = roi_pool_forward(a.x, a.rois, a.out_h, a.out_w, a.scale);
                   const Tensor gy = tensor_from_json(input(in, "grad_y"), "grad_y");
                   return json{{"grad_x", tensor_to_json(roi_pool_backward(gy, a.rois, r.argmax, a.x.shape()))}};
                 },
                 /*uses*/ {"roi_pool_forward"},
                 /*hint*/ "Each output gradient goes to the input position that was its bin's maximum; "
                          "positions that are the maximum of several bins receive the sum."});
  out.push_back({"roi_align_forward", "RoIAlign: bilinear samples averaged per bin, no rounding",
                 "src/detection/roi_align.cpp (roi_align_forward)", [](const json& in, const ExerciseContext&) {
                   const RoiArgs a = roi_args(in);
                   return json{{"y", tensor_to_json(roi_align_forward(a.x, a.rois, a.out_h, a.out_w, a.scale,
                                                                      a.sampling_ratio, a.aligned))}};
                 },
                 /*uses*/ {},
                 /*hint*/ "Mask R-CNN, section 3: no rounding; each bin is the average of bilinearly "
                          "interpolated samples at regularly spaced points inside it; aligned = true "
                          "shifts the RoI by half a pixel."});
  out.push_back({"roi_align_backward", "RoIAlign: gradient scattered with the bilinear weights",
                 "src/detection/roi_align.cpp (roi_align_backward)", [](const json& in, const ExerciseContext&) {
                   const RoiArgs a = roi_args(in);
                   const Tensor gy = tensor_from_json(input(in, "grad_y"), "grad_y");
                   return json{{"grad_x", tensor_to_json(roi_align_backward(gy, a.rois, a.x.shape(), a.scale,
                                                                            a.sampling_ratio, a.aligned))}};
                 },
                 /*uses*/ {},
                 /*hint*/ "Each bin's gradient divided by its number of samples is scattered to the four "
                          "pixels around every sample, weighted by that sample's bilinear weights."});
}

}  // namespace dl::grading
