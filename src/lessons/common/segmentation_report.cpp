#include "lessons/common/segmentation_report.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "lessons/common/report.h"

namespace dl::cli {

void report_segmentation_eval(const ConfusionMatrix& cm, const std::vector<std::string>& names,
                              size_t images, double seconds_per_image, const nlohmann::json& extra,
                              const CommonArgs& a) {
  using nlohmann::json;
  const SegmentationScores s = segmentation_scores(cm);
  const int K = cm.num_classes();
  if (result_wanted(a)) {
    json iou = json::object(), confusion = json::array();
    for (int k = 0; k < K; ++k) {
      iou[names.at(k)] = s.class_iou[k];  // NaN (a class absent from both) -> null
      json row = json::array();
      for (int j = 0; j < K; ++j) row.push_back(cm.at(k, j));
      confusion.push_back(row);
    }
    json j = {{"images", images}, {"pixel_accuracy", s.pixel_accuracy}, {"mean_iou", s.mean_iou},
              {"mean_class_accuracy", s.mean_class_accuracy},
              {"frequency_weighted_iou", s.frequency_weighted_iou}, {"class_iou", iou},
              {"classes", names}, {"confusion", confusion}, {"seconds_per_image", seconds_per_image}};
    j.update(extra);
    if (output_result(a, "eval", j)) return;
  }
  fmt::print("{:<12} {:>6} {:>7}  confusion (% of the class's pixels predicted as ...)\n", "class",
             "IoU", "acc");
  for (int k = 0; k < K; ++k) {
    fmt::print("{:<12} {:>6.3f} {:>6.1f}%  ", names.at(k).substr(0, 12), s.class_iou[k],
               100 * s.class_accuracy[k]);
    uint64_t t = 0;
    for (int j = 0; j < K; ++j) t += cm.at(k, j);
    for (int j = 0; j < K; ++j)
      fmt::print("{:>4.0f}", t ? 100.0 * double(cm.at(k, j)) / double(t) : 0.0);
    fmt::print("\n");
  }
  fmt::print("pixel accuracy {:.1f}%, mean IoU {:.3f} over {} classes, {} images, {:.4f} s/image\n",
             100 * s.pixel_accuracy, s.mean_iou, K, images, seconds_per_image);
}

}  // namespace dl::cli
