// `eval`'s report for a semantic segmentation (lesson 07): pixel accuracy, mean IoU and
// each class's IoU and accuracy (eval/segmentation_metrics.h) with the confusion matrix,
// as a table in percent of each class's pixels, and/or as one JSON object (--json, --report).
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "eval/segmentation_metrics.h"
#include "lessons/common/cli.h"

namespace dl::cli {

// class_names: one per row of cm (background first). `extra` (a JSON object) is merged
// into the JSON output (the model's settings).
void report_segmentation_eval(const ConfusionMatrix& cm, const std::vector<std::string>& class_names,
                              size_t images, double seconds_per_image, const nlohmann::json& extra,
                              const CommonArgs& a);

}  // namespace dl::cli
