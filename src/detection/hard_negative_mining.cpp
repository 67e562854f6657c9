#include "detection/hard_negative_mining.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dl {

namespace {

// The negatives and how many of them to keep: ceil(ratio x positives) (torchvision keeps
// the boxes whose rank is below ratio x positives).
std::vector<int> negatives_and_count(const std::vector<float>& loss, const std::vector<bool>& positive,
                                     float ratio, size_t& keep) {
  if (loss.size() != positive.size())
    throw std::invalid_argument("hard negative mining: one loss per default box and one label");
  if (!(ratio >= 0)) throw std::invalid_argument("hard negative mining: negative ratio must be >= 0");
  std::vector<int> neg;
  size_t pos = 0;
  for (size_t i = 0; i < loss.size(); ++i) {
    if (positive[i]) ++pos;
    else neg.push_back(static_cast<int>(i));
  }
  keep = std::min(neg.size(), static_cast<size_t>(std::ceil(double(ratio) * double(pos))));
  return neg;
}

}  // namespace

std::vector<int> hard_negatives(const std::vector<float>& loss, const std::vector<bool>& positive,
                                float ratio) {
  size_t keep = 0;
  std::vector<int> neg = negatives_and_count(loss, positive, ratio, keep);
  // Highest loss first, then lower index: a strict total order, so any sort agrees.
  auto harder = [&](int a, int b) { return loss[a] > loss[b] || (loss[a] == loss[b] && a < b); };
  std::partial_sort(neg.begin(), neg.begin() + static_cast<std::ptrdiff_t>(keep), neg.end(), harder);
  neg.resize(keep);
  return neg;
}

std::vector<int> hard_negatives_reference(const std::vector<float>& loss,
                                          const std::vector<bool>& positive, float ratio) {
  size_t keep = 0;
  std::vector<int> neg = negatives_and_count(loss, positive, ratio, keep);
  std::stable_sort(neg.begin(), neg.end(), [&](int a, int b) { return loss[a] > loss[b]; });
  neg.resize(keep);
  return neg;
}

}  // namespace dl
