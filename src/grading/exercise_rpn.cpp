// Exercises on the Region Proposal Network (lesson 05): labelling the anchors for
// training, and the proposal layer.
#include "grading/exercises.h"
#include "models/rpn.h"

namespace dl::grading {
using json = nlohmann::json;

void add_rpn_exercises(std::vector<Exercise>& out) {
  out.push_back(
      {"rpn_targets",
       "label anchors object / background / ignored by IoU, the best anchor of each object "
       "positive",
       "src/models/rpn.cpp (rpn_targets)", [](const json& in, const ExerciseContext&) {
         models::RpnTrainingOptions o;
         o.positive_iou = input(in, "positive_iou").get<float>();
         o.negative_iou = input(in, "negative_iou").get<float>();
         Rng rng(1);  // the labels do not depend on the sample drawn after them
         const models::RpnTargets t =
             models::rpn_targets(boxes_from_json(input(in, "anchors"), "anchors"),
                                 boxes_from_json(input(in, "ground_truth"), "ground_truth"), o, rng);
         std::vector<int> matched(t.labels.size(), -1);
         for (size_t i = 0; i < t.labels.size(); ++i)
           if (t.labels[i] == 1) matched[i] = t.matched_gt[i];
         return json{{"labels", t.labels}, {"matched_gt", matched}};
       },
       /*uses*/ {"box_iou", "iou_matching", "box_encode"},
       /*hint*/ "Faster R-CNN, section 3.1.2: an anchor is positive (1) when its IoU with some object is "
                ">= positive_iou, or when it is an object's best anchor; negative (0) when its best IoU is"
                " < negative_iou; otherwise ignored (-1)."});
  out.push_back(
      {"proposal_layer",
       "RPN outputs -> proposals: top-N by objectness, decode, clip, drop tiny, NMS, top-N",
       "src/models/rpn.cpp (propose)", [](const json& in, const ExerciseContext&) {
         const Tensor objectness = tensor_from_json(input(in, "objectness"), "objectness");
         const Tensor deltas = tensor_from_json(input(in, "deltas"), "deltas");
         if (objectness.dim() != 4 || deltas.dim() != 4)
           throw std::invalid_argument("input objectness / deltas: [1, k, h, w] / [1, 4k, h, w]");
         const std::vector<int> size = input(in, "image_size").get<std::vector<int>>();  // h, w
         if (size.size() != 2) throw std::invalid_argument("input image_size: [height, width]");
         models::ProposalLayerOptions o;
         o.pre_nms_top_n = input(in, "pre_nms_top_n").get<int>();
         o.post_nms_top_n = input(in, "post_nms_top_n").get<int>();
         o.nms_iou = input(in, "nms_iou").get<double>();
         const models::Proposals p =
             models::propose(objectness, deltas, 0, boxes_from_json(input(in, "anchors"), "anchors"),
                             size[1], size[0], o);
         return json{{"boxes", boxes_to_json(p.boxes)}, {"scores", p.scores}};
       },
       /*uses*/ {"box_decode", "nms"},
       /*hint*/ "Keep the pre_nms_top_n anchors of highest objectness, decode their deltas into boxes, "
                "clip them to the image, drop boxes smaller than the minimum size, run NMS at nms_iou, "
                "keep the best post_nms_top_n."});
}

}  // namespace dl::grading
