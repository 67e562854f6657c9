#include "models/region_finetuning.h"

#include "autograd/ops.h"
#include "tensor/ops.h"

namespace dl::models {

Labelled label_windows(const DetectionDataset& ds, const std::vector<std::vector<Box>>& props) {
  Labelled out;
  for (size_t i = 0; i < ds.items.size(); ++i) {
    const auto& item = ds.items[i];
    for (size_t g = 0; g < item.boxes.size(); ++g)
      out.fg.push_back({int64_t(i), item.boxes[g], item.labels[g] + 1});
    for (const Box& p : props[i]) {
      float best = 0;
      int which = -1;
      for (size_t g = 0; g < item.boxes.size(); ++g) {
        const float iou = box_iou(p, item.boxes[g]);
        if (iou > best) best = iou, which = static_cast<int>(g);
      }
      if (best >= 0.5f) out.fg.push_back({int64_t(i), p, item.labels[which] + 1});
      else out.bg.push_back({int64_t(i), p, 0});
    }
  }
  return out;
}

std::vector<const Window*> draw_windows(const Labelled& w, int fg, int bg, Rng& rng) {
  std::vector<const Window*> pick;
  for (int i = 0; i < fg + bg; ++i) {
    const auto& pool = (i < fg && !w.fg.empty()) || w.bg.empty() ? w.fg : w.bg;
    pick.push_back(&pool[rng.below(static_cast<uint32_t>(pool.size()))]);
  }
  return pick;
}

int64_t correct_windows(const Tensor& logits, const Tensor& labels) {
  const Tensor pred = argmax(logits, 1);
  int64_t correct = 0;
  for (int64_t i = 0; i < pred.numel(); ++i) correct += pred[i] == labels[i];
  return correct;
}

WindowLoss window_loss(const Var& logits, const Tensor& labels) {
  return {ag::cross_entropy(logits, labels), correct_windows(logits.value(), labels)};
}

}  // namespace dl::models
