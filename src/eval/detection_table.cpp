#include "eval/detection_table.h"

#include <algorithm>

#include <fmt/format.h>

namespace dl {

namespace {
std::string percent(double v) { return v < 0 ? "-" : fmt::format("{:.2f}%", 100.0 * v); }
}  // namespace

std::string format_detection_table(const DetectionTable& t) {
  size_t name_w = 5;  // "class"
  for (const DetectionTableRow& r : t.rows) name_w = std::max(name_w, r.name.size());
  size_t ap_w = std::max<size_t>(7, t.ap_label.size());
  std::string out;
  if (!t.title.empty()) out += t.title + "\n";
  const std::string header = fmt::format("{:>3}  {:<{}}  {:>{}}  {:>7}  {:>7}  {:>7}", "id", "class",
                                         name_w, t.ap_label, ap_w, "TP", "FP", "GT");
  out += header + "\n" + std::string(header.size(), '-') + "\n";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const DetectionTableRow& r = t.rows[i];
    out += fmt::format("{:>3}  {:<{}}  {:>{}}  {:>7}  {:>7}  {:>7}\n", i, r.name, name_w,
                       percent(r.ap), ap_w, r.tp, r.fp, r.num_gt);
  }
  size_t label_w = 0;
  for (const auto& [label, value] : t.summary) label_w = std::max(label_w, label.size());
  for (const auto& [label, value] : t.summary)
    out += fmt::format("{:<{}} = {}\n", label, label_w, value);
  return out;
}

DetectionTable voc_detection_table(const std::vector<VocClassResult>& per_class,
                                   const std::vector<std::string>& class_names,
                                   float iou_threshold) {
  DetectionTable t;
  t.ap_label = fmt::format("AP{:.0f}", 100.0 * iou_threshold);
  for (size_t k = 0; k < per_class.size(); ++k) {
    const VocClassResult& c = per_class[k];
    t.rows.push_back({k < class_names.size() ? class_names[k] : std::to_string(k), c.ap, c.tp,
                      c.fp, c.num_gt});
  }
  const double map = voc_mean_ap(per_class);
  t.summary.push_back({fmt::format("mean average precision (mAP@{:.2f})", iou_threshold),
                       map < 0 ? "-" : fmt::format("{:.4f}, or {:.2f} %", map, 100.0 * map)});
  return t;
}

DetectionTable coco_detection_table(const CocoEvalResult& r,
                                    const std::vector<std::string>& class_names) {
  DetectionTable t;
  t.ap_label = "AP";
  for (size_t k = 0; k < r.category_ids.size(); ++k) {
    t.rows.push_back({k < class_names.size() ? class_names[k] : std::to_string(r.category_ids[k]),
                      r.class_ap[k], r.class_tp50[k], r.class_fp50[k], r.class_num_gt[k]});
  }
  static const char* labels[12] = {"AP   @[.50:.95]", "AP50", "AP75", "AP small", "AP medium",
                                   "AP large", "AR   @1", "AR   @10", "AR   @100", "AR small",
                                   "AR medium", "AR large"};
  t.summary.push_back({"TP, FP, GT", "at IoU 0.50, area all, maxDets 100"});
  for (int i = 0; i < 12; ++i)
    t.summary.push_back({labels[i], r.stats[i] < 0 ? "-" : fmt::format("{:.4f}", r.stats[i])});
  return t;
}

}  // namespace dl
