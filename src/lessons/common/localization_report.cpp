#include "lessons/common/localization_report.h"

#include <fmt/core.h>

#include <algorithm>

namespace dl::cli {

nlohmann::json localization_eval_json(const LocalizationEval& ev,
                                      const std::vector<std::string>& classes) {
  auto stats = [](const LocalizationStats& s) {
    const double d = std::max<int64_t>(1, s.images);
    return nlohmann::json{{"images", s.images}, {"accuracy", s.correct / d},
                          {"mean_iou", s.iou / d}, {"localization_accuracy", s.localized / d}};
  };
  nlohmann::json pc = nlohmann::json::object(), ps = nlohmann::json::array();
  for (size_t c = 0; c < ev.per_class.size(); ++c) pc[classes[c]] = stats(ev.per_class[c]);
  for (size_t b = 0; b < ev.per_size.size(); ++b) {
    nlohmann::json row = stats(ev.per_size[b]);
    row["size"] = size_bucket_name(int(b));
    ps.push_back(row);
  }
  return {{"images", ev.total.images},
          {"accuracy", ev.accuracy()},
          {"mean_iou", ev.mean_iou()},
          {"localization_accuracy", ev.loc_accuracy()},
          {"per_class", pc},
          {"per_size", ps}};
}

void print_localization_eval(const LocalizationEval& ev, const std::vector<std::string>& classes) {
  fmt::print("{:<12} {:>6} {:>9} {:>9} {:>10}\n", "class", "images", "accuracy", "mean IoU",
             "loc. acc.");
  auto row = [](const std::string& name, const LocalizationStats& s) {
    const double d = std::max<int64_t>(1, s.images);
    fmt::print("{:<12} {:>6} {:>8.1f}% {:>9.3f} {:>9.1f}%\n", name, s.images, 100 * s.correct / d,
               s.iou / d, 100 * s.localized / d);
  };
  for (size_t c = 0; c < ev.per_class.size(); ++c) row(classes[c], ev.per_class[c]);
  row("all", ev.total);
  fmt::print("\n{:<12} {:>6} {:>9} {:>9} {:>10}\n", "object size", "images", "accuracy",
             "mean IoU", "loc. acc.");
  for (size_t b = 0; b < ev.per_size.size(); ++b) row(size_bucket_name(int(b)), ev.per_size[b]);
  fmt::print("(object size = sqrt(area) of the true box in scene pixels)\n");
  fmt::print("\nlocalization accuracy = correct class and IoU >= 0.5 with the true box\n");
}

void report_localization_training(const LocalizationTrainingRun& r, bool json) {
  const LocalizationEval& last = r.test;
  if (json) {
    fmt::print("{}\n", nlohmann::json({{"model", r.model_path}, {"accuracy", last.accuracy()},
                                       {"mean_iou", last.mean_iou()},
                                       {"localization_accuracy", last.loc_accuracy()},
                                       {"seconds", r.seconds}, {"init", r.init}})
                           .dump());
    return;
  }
  fmt::print(
      "test: accuracy {:.2f}%, mean IoU {:.3f}, localization accuracy {:.2f}% "
      "({} images) after {} epochs, {:.1f} s\n",
      100 * last.accuracy(), last.mean_iou(), 100 * last.loc_accuracy(), last.total.images,
      r.epochs, r.seconds);
  fmt::print("saved {} (+ {}.csv, {}.svg)\n", r.model_path, r.stem, r.stem);
}

}  // namespace dl::cli
