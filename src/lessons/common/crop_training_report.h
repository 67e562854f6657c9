// The end of `bin/sliding_window train`: the crop classifier's test-crop accuracy
// (models/sliding_window.h: crop_accuracy) and where the model went -- one JSON line
// with --json, else two lines of text.
#pragma once
#include <cstdint>
#include <string>

#include "models/sliding_window.h"

namespace dl::cli {

struct CropTrainingRun {
  std::string model_path, stem, init;  // stem: the logs' STEM.csv / STEM.svg
  models::CropAccuracy test;           // after the last epoch
  int64_t crops_per_epoch = 0;
  int epochs = 0;
  double seconds = 0;                  // the training loop's
};

void report_crop_training(const CropTrainingRun& r, bool json);

}  // namespace dl::cli
