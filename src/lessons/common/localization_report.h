// classify_localize's `eval` report: accuracy, mean IoU and localization accuracy per
// class, then per object size (eval/localization_metrics.h), as a table or as JSON; and
// the summary its `train` ends with.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/localization_metrics.h"

namespace dl::cli {

// {"images", "accuracy", "mean_iou", "localization_accuracy", "per_class": {name: {...}},
//  "per_size": [{"size": "< 32 px", ...}, ...]} (the buckets of size_bucket_name)
nlohmann::json localization_eval_json(const LocalizationEval& ev,
                                      const std::vector<std::string>& classes);
// The per-class table, the per-size table and what "localization accuracy" means.
void print_localization_eval(const LocalizationEval& ev, const std::vector<std::string>& classes);

// The end of `train`: the test scenes' accuracy, mean IoU and localization accuracy
// after the last epoch, and where the model went (STEM.csv / STEM.svg beside it) -- one
// JSON line with --json, else two lines of text.
struct LocalizationTrainingRun {
  std::string model_path, stem, init;
  LocalizationEval test;
  int epochs = 0;
  double seconds = 0;  // the training loop's
};
void report_localization_training(const LocalizationTrainingRun& r, bool json);

}  // namespace dl::cli
