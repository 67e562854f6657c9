// `bin/sliding_window bench`: the cost of both ways of scoring the same windows
// (models/crop_classifier.h: one network pass per crop, or one per pyramid level, as in
// OverFeat) on each image -- wall time, CPU time of all threads, and the largest
// difference between their probabilities (rounding only: the two compute the same).
#pragma once
#include <vector>

#include "lessons/common/stage_bench.h"
#include "models/sliding_window.h"

namespace dl::cli {

// A table (or, with json, one JSON object) of every image, then the means. Returns the
// exit code (0). Throws FileError naming an image whose windows do not fit.
int bench_window_scans(models::CropClassifier& net, const std::vector<BenchImage>& images,
                       const models::WindowScan& scan, bool json, bool quiet);

}  // namespace dl::cli
