// Balanced positive/negative sampling (Fast R-CNN §2.3: 25% foreground RoIs per
// mini-batch; Faster R-CNN §3.1.3: 256 anchors per image, up to 1:1). Most anchors
// are background; training on all of them would drown the few positives, so each
// image contributes batch_size examples of which at most positive_fraction are
// positive, the rest filled with negatives (torchvision's
// BalancedPositiveNegativeSampler).
#pragma once
#include <vector>

#include "tensor/rng.h"

namespace dl {

struct SampledIndices {
  std::vector<int> positives;   // ascending
  std::vector<int> negatives;   // ascending
};

// labels follow torchvision's convention: >= 1 positive (a class or 1 for "object"),
// 0 negative, < 0 ignored. Takes min(#positives, floor(batch_size * positive_fraction))
// positives and min(#negatives, batch_size - that) negatives, each chosen uniformly
// without replacement with `rng` (a partial Fisher-Yates shuffle), so the same rng
// state gives the same sample. Throws std::invalid_argument for batch_size < 0 or a
// fraction outside [0, 1].
SampledIndices sample_balanced(const std::vector<int>& labels, int batch_size,
                               float positive_fraction, Rng& rng);

}  // namespace dl
