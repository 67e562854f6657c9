#include "eval/localization_metrics.h"

#include <fmt/format.h>

namespace dl {

const std::vector<float>& size_bucket_edges() {
  static const std::vector<float> edges = {32, 48, 64, 80};
  return edges;
}

int size_bucket(float side) {
  const std::vector<float>& e = size_bucket_edges();
  int b = 0;
  while (b < static_cast<int>(e.size()) && side >= e[b]) ++b;
  return b;
}

std::string size_bucket_name(int b) {
  const std::vector<float>& e = size_bucket_edges();
  const int n = static_cast<int>(e.size());
  if (b == 0) return fmt::format("< {:.0f} px", e[0]);
  if (b == n) return fmt::format(">= {:.0f} px", e[n - 1]);
  return fmt::format("{:.0f}-{:.0f} px", e[b - 1], e[b]);
}

void LocalizationEval::add(int truth, bool correct, float iou, float side) {
  for (LocalizationStats* c : {&per_class[truth], &per_size[size_bucket(side)], &total}) {
    c->images++;
    c->correct += correct;
    c->localized += correct && iou >= 0.5f;
    c->iou += iou;
  }
}

}  // namespace dl
