#include "eval/segmentation_metrics.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace dl {

ConfusionMatrix::ConfusionMatrix(int num_classes, int ignore_label)
    : num_classes_(num_classes), ignore_label_(ignore_label) {
  if (num_classes <= 0)
    throw std::invalid_argument("ConfusionMatrix: num_classes must be positive, got " +
                                std::to_string(num_classes));
  counts_.assign(static_cast<size_t>(num_classes) * num_classes, 0);
}

void ConfusionMatrix::add(const std::vector<int>& gt, const std::vector<int>& pred) {
  if (gt.size() != pred.size())
    throw std::invalid_argument("ConfusionMatrix::add: " + std::to_string(gt.size()) +
                                " ground-truth labels but " + std::to_string(pred.size()) +
                                " predictions");
  add(gt.data(), pred.data(), gt.size());
}

void ConfusionMatrix::add(const int* gt, const int* pred, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (gt[i] == ignore_label_) continue;
    if (gt[i] < 0 || gt[i] >= num_classes_)
      throw std::invalid_argument("ConfusionMatrix::add: ground-truth label " +
                                  std::to_string(gt[i]) + " at pixel " + std::to_string(i) +
                                  " is outside [0, " + std::to_string(num_classes_) + ")");
    if (pred[i] < 0 || pred[i] >= num_classes_)
      throw std::invalid_argument("ConfusionMatrix::add: predicted label " +
                                  std::to_string(pred[i]) + " at pixel " + std::to_string(i) +
                                  " is outside [0, " + std::to_string(num_classes_) + ")");
    ++counts_[static_cast<size_t>(gt[i]) * num_classes_ + pred[i]];
  }
}

uint64_t ConfusionMatrix::at(int gt, int pred) const {
  if (gt < 0 || gt >= num_classes_ || pred < 0 || pred >= num_classes_)
    throw std::out_of_range("ConfusionMatrix::at(" + std::to_string(gt) + ", " +
                            std::to_string(pred) + ") outside " + std::to_string(num_classes_) +
                            " classes");
  return counts_[static_cast<size_t>(gt) * num_classes_ + pred];
}

uint64_t ConfusionMatrix::total() const {
  uint64_t s = 0;
  for (uint64_t c : counts_) s += c;
  return s;
}

SegmentationScores segmentation_scores(const ConfusionMatrix& cm) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const int C = cm.num_classes();
  SegmentationScores s;
  s.class_iou.assign(C, nan);
  s.class_accuracy.assign(C, nan);
  double correct = 0, total = 0, iou_sum = 0, acc_sum = 0, fw_sum = 0;
  int iou_n = 0, acc_n = 0;
  for (int i = 0; i < C; ++i) {
    double t_i = 0, p_i = 0;  // ground-truth and predicted pixels of class i
    for (int j = 0; j < C; ++j) {
      t_i += static_cast<double>(cm.at(i, j));
      p_i += static_cast<double>(cm.at(j, i));
    }
    const double n_ii = static_cast<double>(cm.at(i, i));
    correct += n_ii;
    total += t_i;
    const double uni = t_i + p_i - n_ii;
    if (uni > 0) {
      s.class_iou[i] = n_ii / uni;
      iou_sum += s.class_iou[i];
      fw_sum += t_i * s.class_iou[i];
      ++iou_n;
    }
    if (t_i > 0) {
      s.class_accuracy[i] = n_ii / t_i;
      acc_sum += s.class_accuracy[i];
      ++acc_n;
    }
  }
  s.pixel_accuracy = total > 0 ? correct / total : nan;
  s.mean_class_accuracy = acc_n > 0 ? acc_sum / acc_n : nan;
  s.mean_iou = iou_n > 0 ? iou_sum / iou_n : nan;
  s.frequency_weighted_iou = total > 0 ? fw_sum / total : nan;
  return s;
}

}  // namespace dl
