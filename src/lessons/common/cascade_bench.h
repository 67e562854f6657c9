// `bin/deeppose bench`: images/s of each stage of a DeepPose cascade (models/deeppose.h)
// -- stage 1 on whole 128 x 128 images, every later stage on the 14 joint windows of
// each image -- timed by items_per_second. Printed a line per stage, or as one JSON
// array with --json.
#pragma once
#include <cstdint>

#include "models/deeppose.h"

namespace dl::cli {

// Random images and random plausible poses from Rng `rng` (timing does not depend on
// the pixels); the model in eval mode. Returns the exit code (0).
int bench_cascade(models::DeepPoseCascade& model, int batch, Rng& rng, bool json);

}  // namespace dl::cli
