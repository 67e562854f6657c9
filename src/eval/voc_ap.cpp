#include "eval/voc_ap.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>

namespace dl {

namespace {
void check_curve(const std::vector<double>& recall, const std::vector<double>& precision) {
  if (recall.size() != precision.size())
    throw std::invalid_argument("voc_ap: recall has " + std::to_string(recall.size()) +
                                " points but precision has " +
                                std::to_string(precision.size()));
}
}  // namespace

double voc_ap_11point(const std::vector<double>& recall, const std::vector<double>& precision) {
  check_curve(recall, precision);
  double ap = 0;
  for (int i = 0; i <= 10; ++i) {
    const double t = i / 10.0;
    double p = 0;  // no point reaches this recall: precision 0
    for (size_t j = 0; j < recall.size(); ++j)
      if (recall[j] >= t) p = std::max(p, precision[j]);
    ap += p / 11.0;
  }
  return ap;
}

double voc_ap_all_points(const std::vector<double>& recall,
                         const std::vector<double>& precision) {
  check_curve(recall, precision);
  // Sentinels: the curve starts at recall 0 and ends at recall 1 with precision 0.
  std::vector<double> r(recall.size() + 2), p(precision.size() + 2);
  r.front() = 0, r.back() = 1, p.front() = 0, p.back() = 0;
  std::copy(recall.begin(), recall.end(), r.begin() + 1);
  std::copy(precision.begin(), precision.end(), p.begin() + 1);
  // Envelope: precision made non-increasing from the right.
  for (size_t i = p.size() - 1; i > 0; --i) p[i - 1] = std::max(p[i - 1], p[i]);
  double ap = 0;
  for (size_t i = 0; i + 1 < r.size(); ++i)
    if (r[i + 1] != r[i]) ap += (r[i + 1] - r[i]) * p[i + 1];
  return ap;
}

double voc_ap(const std::vector<double>& recall, const std::vector<double>& precision,
              VocApMethod method) {
  return method == VocApMethod::ElevenPoint ? voc_ap_11point(recall, precision)
                                            : voc_ap_all_points(recall, precision);
}

VocClassResult voc_evaluate_class(const std::vector<VocDetection>& detections,
                                  const std::vector<VocGroundTruth>& ground_truth,
                                  float iou_threshold, VocApMethod method) {
  VocClassResult res;
  std::map<int64_t, std::vector<int>> gt_of_image;
  for (size_t g = 0; g < ground_truth.size(); ++g) {
    gt_of_image[ground_truth[g].image_id].push_back(static_cast<int>(g));
    if (!ground_truth[g].difficult) ++res.num_gt;
  }
  std::vector<size_t> order(detections.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return detections[a].score > detections[b].score;
  });

  std::vector<bool> taken(ground_truth.size(), false);
  int tp = 0, fp = 0;
  for (size_t i : order) {
    const VocDetection& d = detections[i];
    float best = -1;
    int best_g = -1;
    auto it = gt_of_image.find(d.image_id);
    if (it != gt_of_image.end()) {
      for (int g : it->second) {
        const float iou = box_iou(d.box, ground_truth[g].box);
        if (iou > best) best = iou, best_g = g;
      }
    }
    if (best_g >= 0 && best > iou_threshold) {
      if (ground_truth[best_g].difficult) continue;  // ignored: not on the curve
      if (!taken[best_g]) {
        taken[best_g] = true;
        ++tp;
      } else {
        ++fp;  // duplicate detection of an object already found
      }
    } else {
      ++fp;
    }
    res.recall.push_back(res.num_gt > 0 ? static_cast<double>(tp) / res.num_gt : 0.0);
    res.precision.push_back(static_cast<double>(tp) / (tp + fp));
  }
  res.tp = tp;
  res.fp = fp;
  if (res.num_gt > 0) res.ap = voc_ap(res.recall, res.precision, method);
  return res;
}

std::vector<VocClassResult> voc_evaluate(const CocoDataset& ground_truth,
                                         const std::vector<CocoAnnotation>& results,
                                         float iou_threshold, VocApMethod method) {
  std::vector<int64_t> cats;
  for (const CocoCategory& c : ground_truth.categories) cats.push_back(c.id);
  std::sort(cats.begin(), cats.end());
  cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
  std::map<int64_t, size_t> index;
  for (size_t k = 0; k < cats.size(); ++k) index[cats[k]] = k;
  auto to_box = [](const std::array<double, 4>& b) {
    return box_from({static_cast<float>(b[0]), static_cast<float>(b[1]),
                     static_cast<float>(b[2]), static_cast<float>(b[3])},
                    BoxFormat::XYWH);
  };
  std::vector<std::vector<VocGroundTruth>> gts(cats.size());
  std::vector<std::vector<VocDetection>> dets(cats.size());
  for (const CocoAnnotation& a : ground_truth.annotations) {
    auto it = index.find(a.category_id);
    if (it != index.end()) gts[it->second].push_back({a.image_id, to_box(a.bbox), a.iscrowd});
  }
  for (const CocoAnnotation& a : results) {
    auto it = index.find(a.category_id);
    if (it != index.end())
      dets[it->second].push_back({a.image_id, to_box(a.bbox), static_cast<float>(a.score)});
  }
  std::vector<VocClassResult> out;
  for (size_t k = 0; k < cats.size(); ++k)
    out.push_back(voc_evaluate_class(dets[k], gts[k], iou_threshold, method));
  return out;
}

double voc_mean_ap(const std::vector<VocClassResult>& per_class) {
  double sum = 0;
  int n = 0;
  for (const VocClassResult& c : per_class)
    if (c.num_gt > 0) sum += c.ap, ++n;
  return n > 0 ? sum / n : -1.0;
}

}  // namespace dl
