// Scores of single-object classification + localization (the ImageNet localization
// task's measures, lesson 01): per image, is the class right, how well does the box
// overlap the true one (IoU), and is it "localized" -- the right class *and* IoU >= 0.5.
// Counted per class, per object size and over all images.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dl {

struct LocalizationStats {
  int64_t images = 0, correct = 0, localized = 0;
  double iou = 0;  // summed over the images
};

// Object size buckets (sqrt of the true box's area, in scene pixels): shows whether
// small items (few input pixels) or the classes themselves are what fails.
const std::vector<float>& size_bucket_edges();  // 32, 48, 64, 80
int size_bucket(float side);
std::string size_bucket_name(int bucket);  // "< 32 px", "32-48 px", ..., ">= 80 px"

struct LocalizationEval {
  std::vector<LocalizationStats> per_class;
  std::vector<LocalizationStats> per_size =
      std::vector<LocalizationStats>(size_bucket_edges().size() + 1);
  LocalizationStats total;
  explicit LocalizationEval(int num_classes = 0) : per_class(num_classes) {}
  // One image: its true class, whether the predicted class is right, the IoU of the
  // predicted box with the true one and the true box's side sqrt(area) in pixels.
  void add(int truth, bool correct, float iou, float side);
  double accuracy() const { return total.images ? double(total.correct) / total.images : 0; }
  double mean_iou() const { return total.images ? total.iou / total.images : 0; }
  double loc_accuracy() const {
    return total.images ? double(total.localized) / total.images : 0;
  }
};

}  // namespace dl
