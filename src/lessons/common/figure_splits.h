// Lesson 02's data: the pose figures `bin/datagen figures` writes, as deeppose reads them.
#pragma once
#include <cstdint>

#include "data/keypoint_dataset.h"
#include "lessons/common/cli.h"

namespace dl::cli {

struct FigureSplits {
  KeypointDataset train, test;
};

// DATA/train (its first `limit` images; 0: all) and DATA/test, DATA defaulting to
// data/generated/figures. FileError naming the folder when one is missing (saying how to
// make it), empty, or not the figures' 14 joints.
FigureSplits load_figure_splits(const CommonArgs& a, int64_t limit);

// DATA/test alone, checked to hold images with the model's `joints` joints.
KeypointDataset load_figures_test(const CommonArgs& a, int joints);

}  // namespace dl::cli
