#include "lessons/common/cascade_bench.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "data/figures.h"
#include "lessons/common/model_file.h"

namespace dl::cli {

int bench_cascade(models::DeepPoseCascade& model, int batch, Rng& rng, bool json) {
  using models::Pose;
  std::vector<Image> imgs(batch, Image(128, 128, 3));
  for (auto& im : imgs)
    for (auto& px : im.pixels) px = static_cast<uint8_t>(rng.below(256));
  std::vector<const Image*> ptrs;
  for (auto& im : imgs) ptrs.push_back(&im);
  // Plausible poses for the windows: the figures' mean layout is not needed for timing.
  std::vector<Pose> poses(batch, Pose(2 * kFigureJoints));
  for (auto& p : poses)
    for (auto& v : p) v = rng.uniform(20.0f, 108.0f);
  nlohmann::json results = nlohmann::json::array();
  const int stages = static_cast<int>(model.stages.size());
  for (int s = 1; s <= stages; ++s) {
    const double ips = items_per_second(
        [&] {
          if (s == 1)
            models::run_stage1(*model.stages[0], ptrs, batch);
          else
            models::refine(*model.stages[s - 1], ptrs, poses, model.config.sigma, batch);
        },
        batch);
    results.push_back({{"stage", s}, {"images_per_s", ips}, {"batch", batch}});
    if (!json)
      fmt::print("stage {}: {:>7.0f} images/s (batch {}, {})\n", s, ips, batch,
                 s == 1 ? "whole 128x128 image" : "14 joint windows per image");
  }
  if (json) fmt::print("{}\n", results.dump());
  return 0;
}

}  // namespace dl::cli
