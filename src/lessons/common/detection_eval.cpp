#include "lessons/common/detection_eval.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "lessons/common/report.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::cli {

std::string scenes_split_dir(const CommonArgs& a, const char* split) {
  const std::string data = a.data.empty() ? "data/generated/scenes" : a.data;
  const std::string dir = (std::filesystem::path(data) / split).string();
  const bool train = std::string(split) == "train";
  if (!std::filesystem::exists(dir))
    throw FileError(dir, fmt::format("no such dataset directory; make it with `bin/datagen scenes "
                                     "--split {} --count {} --seed {} --out {}` (lessons/03)",
                                     split, train ? 2000 : 200, train ? 1 : 2, dir));
  return dir;
}

int report_region_eval(
    const DetectionDataset& test, const ProposalOptions& po, const CommonArgs& a, bool regress,
    const std::function<ImageResult(const DetectionItem&, const std::vector<Box>&)>& detect) {
  double without = 0;  // detect()'s own seconds: everything but the proposals
  const ProposalEval pe =
      evaluate_with_proposals(test, po, [&](const DetectionItem& item, const std::vector<Box>& p) {
        ImageResult r = detect(item, p);
        without += r.seconds;
        return r;
      });
  const double n = static_cast<double>(std::max<size_t>(1, test.items.size()));
  if (result_wanted(a)) {
    nlohmann::json j = detection_eval_json(pe.eval, test.class_names);
    j["proposals_per_image"] = pe.proposals_per_image;
    j["seconds_per_image_without_proposals"] = without / n;
    j["box_regression"] = regress;
    if (output_result(a, "eval", j)) return 0;
  }
  print_detection_eval(pe.eval, test.class_names);
  fmt::print("{} images, {:.0f} proposals/image, box regression {}: {:.4f} s/image without "
             "proposals\n",
             test.items.size(), pe.proposals_per_image, regress ? "on" : "off", without / n);
  return 0;
}

}  // namespace dl::cli
