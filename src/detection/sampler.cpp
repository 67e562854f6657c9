#include "detection/sampler.h"

#include <algorithm>
#include <stdexcept>

namespace dl {

namespace {

// k of the candidates, uniformly without replacement: the first k steps of a
// Fisher-Yates shuffle. Returned ascending so callers never depend on draw order.
std::vector<int> choose(std::vector<int> candidates, size_t k, Rng& rng) {
  k = std::min(k, candidates.size());
  for (size_t i = 0; i < k; ++i) {
    const size_t j = i + rng.below(static_cast<uint32_t>(candidates.size() - i));
    std::swap(candidates[i], candidates[j]);
  }
  candidates.resize(k);
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

}  // namespace

SampledIndices sample_balanced(const std::vector<int>& labels, int batch_size,
                               float positive_fraction, Rng& rng) {
  if (batch_size < 0) throw std::invalid_argument("sample_balanced: negative batch size");
  if (!(positive_fraction >= 0 && positive_fraction <= 1))
    throw std::invalid_argument("sample_balanced: positive_fraction must be in [0, 1]");
  std::vector<int> pos, neg;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= 1) pos.push_back(static_cast<int>(i));
    else if (labels[i] == 0) neg.push_back(static_cast<int>(i));
  }
  // int(batch * fraction) truncates, as torchvision does.
  const size_t want_pos = static_cast<size_t>(static_cast<float>(batch_size) * positive_fraction);
  SampledIndices out;
  out.positives = choose(std::move(pos), want_pos, rng);
  out.negatives = choose(std::move(neg), static_cast<size_t>(batch_size) - out.positives.size(), rng);
  return out;
}

}  // namespace dl
