#include "lessons/common/figure_splits.h"

#include <fmt/core.h>

#include <filesystem>

#include "data/figures.h"
#include "util/files.h"

namespace dl::cli {
namespace {

const int64_t kTrainCount = 8000, kTestCount = 1000;  // lessons/02's `make generated`

std::string split_dir(const CommonArgs& a, const char* split) {
  const std::string data = a.data.empty() ? "data/generated/figures" : a.data;
  const std::string dir = (std::filesystem::path(data) / split).string();
  if (!std::filesystem::exists(dir)) {
    const bool train = std::string(split) == "train";
    throw FileError(dir, fmt::format("no such dataset directory; make it with `bin/datagen figures "
                                     "--count {} --seed {} --out {}` (lessons/02)",
                                     train ? kTrainCount : kTestCount, train ? 1 : 2, dir));
  }
  return dir;
}

}  // namespace

FigureSplits load_figure_splits(const CommonArgs& a, int64_t limit) {
  FigureSplits s{load_keypoint_dataset(split_dir(a, "train"), limit),
                 load_keypoint_dataset(split_dir(a, "test"))};
  if (s.train.items.empty()) throw FileError(s.train.dir, "the training set has no images");
  if (s.test.num_joints() != s.train.num_joints())
    throw FileError(s.test.dir, "the test set's joints differ from the training set's");
  if (s.train.num_joints() != kFigureJoints)
    throw FileError(s.train.dir, fmt::format("expected the {} figure joints, found {}", kFigureJoints,
                                             s.train.num_joints()));
  return s;
}

KeypointDataset load_figures_test(const CommonArgs& a, int joints) {
  KeypointDataset test = load_keypoint_dataset(split_dir(a, "test"));
  if (test.items.empty()) throw FileError(test.dir, "the test set has no images");
  if (test.num_joints() != joints)
    throw FileError(test.dir, fmt::format("{} joints, the model has {}", test.num_joints(), joints));
  return test;
}

}  // namespace dl::cli
