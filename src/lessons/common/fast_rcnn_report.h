// Fast R-CNN's `eval` and `bench`: the model and, with --svd, its truncated-SVD version
// (§3.1) side by side -- evaluated on the test scenes (AP per class) or timed on images
// stage by stage (conv / RoI pool / FC / NMS) -- reported as a table or as JSON.
#pragma once
#include <cstdint>
#include <string>

#include <vector>

#include "data/detection_dataset.h"
#include "eval/detection_eval.h"
#include "lessons/common/cli.h"
#include "lessons/common/stage_bench.h"
#include "models/fast_rcnn.h"
#include "proposals/region_proposals.h"

namespace dl::cli {

// The shared evaluation (eval/detection_eval.h) plus where Fast R-CNN's time goes.
// Proposals are computed beforehand (cached); their time is shared out evenly.
struct FastRcnnEval {
  DetectionEval e;
  models::FastRcnnStageTimes times;  // summed over the images
  int64_t proposals = 0;
};

FastRcnnEval evaluate_fast_rcnn(models::FastRcnn& net, const DetectionDataset& ds,
                                const ProposalOptions& po, const models::FastRcnnDetectOptions& d);

// `full`, and `svd` when svd.fc6 > 0: the JSON contract plus proposals_per_image,
// seconds_per_image_without_proposals, fc_seconds_per_image (and "svd": the same for the
// compressed model, with its ranks; --json, --report), and/or the table with an SVD column
// and summary lines.
void report_fast_rcnn_eval(const DetectionDataset& test, const ProposalOptions& po,
                           const FastRcnnEval& full, const FastRcnnEval& svd,
                           const models::FastRcnnSvd& ranks, const CommonArgs& a);

// What bench measured, summed over the images.
struct FastRcnnBench {
  int64_t images = 0, proposals = 0;
  double proposal_seconds = 0;
  std::string preset;
  bool cached = false;                 // proposals read from the cache
  models::FastRcnnStageTimes full, svd;  // svd: when ranks.fc6 > 0
};

// Each image's proposals, computed afresh unless `cached` (the cache would time a file
// read); one warm-up pass (first-touch allocations), then a timed one; with svd.fc6 > 0
// the same again after net.compress_fc(svd). The score threshold is eval's 0.05, so NMS
// sees the boxes it sees there.
FastRcnnBench time_fast_rcnn(models::FastRcnn& net, const std::vector<BenchImage>& images,
                             const ProposalOptions& po, bool cached,
                             const models::FastRcnnSvd& svd);

void report_fast_rcnn_bench(const FastRcnnBench& b, const models::FastRcnnSvd& ranks, bool json);

}  // namespace dl::cli
