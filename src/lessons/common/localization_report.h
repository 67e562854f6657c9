// classify_localize's `eval` report: accuracy, mean IoU and localization accuracy per
// class, then per object size (eval/localization_metrics.h), as a table or as JSON.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/localization_metrics.h"

namespace dl::cli {

// {"images", "accuracy", "mean_iou", "localization_accuracy", "per_class": {name: {...}}}
nlohmann::json localization_eval_json(const LocalizationEval& ev,
                                      const std::vector<std::string>& classes);
// The per-class table, the per-size table and what "localization accuracy" means.
void print_localization_eval(const LocalizationEval& ev, const std::vector<std::string>& classes);

}  // namespace dl::cli
