// Semantic segmentation scores from a confusion matrix (Long, Shelhamer & Darrell
// 2015, "Fully Convolutional Networks for Semantic Segmentation", §5): with n_ij the
// pixels of class i predicted as j and t_i = sum_j n_ij,
//   pixel accuracy  sum_i n_ii / sum_i t_i
//   mean accuracy   (1/n_cl) sum_i n_ii / t_i
//   mean IoU        (1/n_cl) sum_i n_ii / (t_i + sum_j n_ji - n_ii)
//   frequency-weighted IoU  (sum_k t_k)^-1 sum_i t_i n_ii / (t_i + sum_j n_ji - n_ii)
// A class absent from both prediction and ground truth has no IoU (NaN) and is left
// out of the means; one without ground-truth pixels has no accuracy (NaN).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dl {

class ConfusionMatrix {
 public:
  // Ground-truth pixels labelled ignore_label are skipped (VOC's 255 "void" border).
  explicit ConfusionMatrix(int num_classes, int ignore_label = 255);

  // Adds one image's labels (same length). Throws std::invalid_argument when the
  // lengths differ or a label is outside [0, num_classes) (and not ignore_label in
  // the ground truth).
  void add(const std::vector<int>& ground_truth, const std::vector<int>& prediction);
  void add(const int* ground_truth, const int* prediction, size_t n);

  int num_classes() const { return num_classes_; }
  int ignore_label() const { return ignore_label_; }
  // Pixels of class gt predicted as pred; throws std::out_of_range outside the matrix.
  uint64_t at(int gt, int pred) const;
  uint64_t total() const;

 private:
  int num_classes_, ignore_label_;
  std::vector<uint64_t> counts_;  // [gt][pred]
};

struct SegmentationScores {
  double pixel_accuracy = 0;        // NaN when no pixel was counted
  double mean_class_accuracy = 0;   // NaN when no class has ground truth
  double mean_iou = 0;              // NaN when no class is present
  double frequency_weighted_iou = 0;
  std::vector<double> class_iou;       // NaN for classes absent from both
  std::vector<double> class_accuracy;  // NaN for classes without ground truth
};

SegmentationScores segmentation_scores(const ConfusionMatrix& cm);

}  // namespace dl
