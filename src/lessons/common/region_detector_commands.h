// The eval / predict / bench subcommands of the programs that score regions with
// R-CNN's SVMs (rcnn, spp_net): the same flags and the same score threshold rule, so
// they are declared once here.
#pragma once
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lessons/common/cli.h"
#include "lessons/common/proposal_options.h"
#include "lessons/common/region_classifier.h"

namespace dl::cli {

struct RegionDetectorCommands {
  CLI::App* eval = nullptr;
  CLI::App* predict = nullptr;
  CLI::App* bench = nullptr;
  std::vector<std::string> images;  // predict / bench IMAGE...
  int64_t limit = 0;                // eval / bench --limit
  float threshold = NAN;            // --threshold; unset: 0 to draw, -3 to evaluate
  double nms = 0.3;                 // --nms, R-CNN's per-class IoU
  bool no_regression = false;

  // The detection options the parsed flags ask for.
  RegionDetectOptions options() const;
};

// Adds the three subcommands to `app`, each with the common and proposal flags. The
// flags are bound to `c`, `args` and `po`: they must outlive parsing.
void add_region_detector_commands(CLI::App& app, CommonArgs& args, ProposalOptions& po,
                                  RegionDetectorCommands& c);

}  // namespace dl::cli
