// What `faster_rcnn eval` and `predict` show about the Region Proposal Network beside the
// detections: proposal recall against the number of proposals, next to Selective
// Search's on the same scenes (the paper's Fig. 2 / Table 1 question: do fewer, learned
// proposals still cover the objects?), and pictures of the RPN at work -- the anchors
// at one position, the objectness map, the top-N proposals.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "eval/detection_eval.h"
#include "eval/proposal_metrics.h"
#include "image/image.h"
#include "lessons/common/cli.h"
#include "models/faster_rcnn.h"
#include "proposals/region_proposals.h"

namespace dl::cli {

struct RpnRecall {
  ProposalRecallCurve rpn, selective_search;  // at the same N
  double rpn_per_image = 0, ss_per_image = 0;  // boxes available per image
  double ss_recall50_all = 0, ss_recall70_all = 0;  // Selective Search with all its boxes
  std::string ss_preset;
};

// The RPN's ranked proposals (pre-NMS: every anchor, post-NMS: up to the largest N) and
// Selective Search's (`po`, cached) on every image of `ds`, recall at each N in `n`.
RpnRecall rpn_recall(models::FasterRcnn& net, const DetectionDataset& ds,
                     const ProposalOptions& po, const std::vector<int>& n);

nlohmann::json rpn_recall_json(const RpnRecall& r);
void print_rpn_recall(const RpnRecall& r);

// `faster_rcnn eval`'s report: the shared detection JSON (plus proposals_per_image,
// seconds_per_image_without_proposals and, with `recall`, proposal_recall), or the
// per-class table, the time line, the recall table and its plot in `plot_dir`.
void report_faster_rcnn_eval(const DetectionDataset& test, const DetectionEval& e,
                             const RpnRecall* recall, int proposals_per_image,
                             const CommonArgs& a, const std::string& plot_dir);

// predict's pictures of the RPN on one image, beside STEM's detections: STEM.objectness.png
// always, STEM.anchors.png (the central cell's anchors) when `anchors`, STEM.proposals.png
// (the first `proposals` RPN proposals) when > 0. Returns how many proposals the RPN made.
int64_t save_rpn_pictures(models::FasterRcnn& net, const Image& img, const std::string& stem,
                          const models::ProposalLayerOptions& o, bool anchors, int proposals);

// The image, dimmed, with max_k sigmoid(objectness) of each feature-map cell in red to
// yellow on top, enlarged `zoom` times. objectness [1, k, h, w].
Image objectness_map(const Image& img, const Tensor& objectness, int zoom);

// The k anchors of the feature-map cell (cx, cy) (anchors in [h, w, k] order, as the RPN
// sees them) on the image enlarged `zoom` times, with the cell marked.
Image draw_cell_anchors(const Image& img, const std::vector<Box>& anchors, int k, int grid_w,
                        int cx, int cy, int zoom);

}  // namespace dl::cli
