// What the detector programs share around eval/detection_eval.h: where the scenes are,
// and the region detectors' `eval` report.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "eval/detection_eval.h"
#include "lessons/common/cli.h"
#include "lessons/common/proposal_options.h"

namespace dl::cli {

// DATA/split for the detectors on lessons 03-04's scenes (DATA defaults to
// data/generated/scenes); a missing directory is a FileError that says how to make it.
std::string scenes_split_dir(const CommonArgs& a, const char* split);

// `eval` of a region detector (rcnn, spp_net): evaluate_with_proposals, then the JSON
// contract (plus proposals_per_image, seconds_per_image_without_proposals and
// box_regression; --json, --report) and/or the table and a summary line.
int report_region_eval(
    const DetectionDataset& test, const ProposalOptions& po, const CommonArgs& a, bool regress,
    const std::function<ImageResult(const DetectionItem&, const std::vector<Box>&)>& detect);

}  // namespace dl::cli
