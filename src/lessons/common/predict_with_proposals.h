// `predict` for the detectors (rcnn, spp_net, fast_rcnn through predict_with_proposals,
// faster_rcnn with its own proposals): for each image, its proposals, the program's detector, the detections drawn to OUT/STEM.PROGRAM.png and
// listed in OUT/STEM.PROGRAM.json, a line per image (or all of it as JSON with --json);
// with --gt the image's ground truth drawn over them (lessons/common/ground_truth.h), with
// --report a page of it all (lessons/common/report.h).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/proposal_options.h"

namespace dl::cli {

struct PredictSettings {
  std::string program;               // names the output files: STEM.PROGRAM.png / .json
  std::string out_dir;
  std::vector<std::string> classes;  // the model's, background excluded
  std::string score_name = "score";  // how the line calls the threshold ("SVM score")
  float threshold = 0;
  CommonArgs args;  // --json, --report (lessons/common/report.h), --gt, --model
};

// What a detector found on one image: its detections with their timing (seconds
// without proposals, proposal_seconds) and how many proposals it looked at.
struct PredictedImage {
  ImageResult result;
  int64_t proposals = 0;
};

// The loop every detector's `predict` shares: for each image, detect(path, image), the
// detections drawn and listed, a line per image (or all of it as JSON).
int predict_images(const std::vector<std::string>& images, const PredictSettings& s,
                   const std::function<PredictedImage(const std::string&, const Image&)>& detect);

// detect(image, proposals) -> detections, best first, and their time without proposals.
int predict_with_proposals(
    const std::vector<std::string>& images, const ProposalOptions& po, const PredictSettings& s,
    const std::function<ImageResult(const Image&, const std::vector<Box>&)>& detect);

}  // namespace dl::cli
