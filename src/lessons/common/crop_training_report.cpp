#include "lessons/common/crop_training_report.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

namespace dl::cli {

void report_crop_training(const CropTrainingRun& r, bool json) {
  const models::CropAccuracy& last = r.test;
  if (json) {
    fmt::print("{}\n", nlohmann::json({{"model", r.model_path}, {"crop_accuracy", last.all},
                                       {"object_accuracy", last.objects},
                                       {"background_accuracy", last.background},
                                       {"crops_per_epoch", r.crops_per_epoch},
                                       {"seconds", r.seconds}, {"init", r.init}})
                           .dump());
    return;
  }
  fmt::print(
      "test crops: accuracy {:.2f}% (objects {:.2f}%, background {:.2f}%, {} crops) after {} "
      "epochs of {} crops, {:.1f} s\n",
      100 * last.all, 100 * last.objects, 100 * last.background, last.n, r.epochs,
      r.crops_per_epoch, r.seconds);
  fmt::print("saved {} (+ {}.csv, {}.svg)\n", r.model_path, r.stem, r.stem);
}

}  // namespace dl::cli
