// Evaluating a detector the same way in every program: run it on each test image,
// then VOC AP@0.5 per class (all-point interpolation) and the 12 COCO numbers, as a
// table or as the JSON that every detector's `eval --json` shares -- the contract
// bin/compare reads (voc_map50, coco_ap, seconds_per_image, proposal_seconds_per_image).
// Detections that carry a mask (Mask R-CNN) are also scored as segmentations: COCO's
// mask AP (the same COCOeval with mask IoU), in the JSON as mask_ap, mask_ap50, ...
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "detection/detection.h"
#include "eval/coco_eval.h"
#include "eval/voc_ap.h"
#include "proposals/region_proposals.h"

namespace dl {

// What a detector returns for one image: its final detections and where the time went.
struct ImageResult {
  std::vector<Detection> detections;
  double seconds = 0;           // everything, proposals included
  double proposal_seconds = 0;  // of which computing (or reading) region proposals
};

struct DetectionEval {
  std::vector<VocClassResult> voc;  // per class
  double voc_map50 = 0;
  CocoEvalResult coco;
  bool has_masks = false;  // some detection had a mask: coco_segm is filled
  CocoEvalResult coco_segm;
  int64_t images = 0, detections = 0;
  double seconds = 0, proposal_seconds = 0;  // totals over the images
};

DetectionEval evaluate_detector(const DetectionDataset& test,
                                const std::function<ImageResult(const DetectionItem&)>& detect);

// For proposal-based detectors (R-CNN, SPP-net, Fast R-CNN): every image's proposals
// first (mostly read from the cache, so their time is shared out evenly), then
// detect(item, proposals) on each, its ImageResult timing the detector alone.
struct ProposalEval {
  DetectionEval eval;
  double proposals_per_image = 0;
};
ProposalEval evaluate_with_proposals(
    const DetectionDataset& test, const ProposalOptions& po,
    const std::function<ImageResult(const DetectionItem&, const std::vector<Box>&)>& detect);

// The shared JSON keys; a program adds its own (e.g. windows per image) before printing.
nlohmann::json detection_eval_json(const DetectionEval& e, const std::vector<std::string>& classes);
// Per-class VOC AP table, mAP, then COCOeval's summary.
void print_detection_eval(const DetectionEval& e, const std::vector<std::string>& classes);

}  // namespace dl
