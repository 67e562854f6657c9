// The multitask loss of classification + localisation (lesson classify_localize;
// the same shape as Fast R-CNN's, Girshick 2015, eq. 1, with an L2 box term):
//   L = CE(scores, labels) + lambda * (1/N) * sum_i ||box_i - target_i||^2
// CE is the mean softmax cross-entropy over the N images; the box term sums the
// squared error over the 4 box numbers and averages over images, so lambda weighs
// one image's box error against one image's classification error.
#pragma once
#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace dl {

struct MultitaskLoss {
  Var total, classification, localization;   // total = classification + lambda * localization
};

// scores [N, C] logits; labels [N] class indices; boxes, targets [N, 4].
// Throws ShapeError when the shapes disagree.
MultitaskLoss classify_localize_loss(const Var& scores, const Tensor& labels, const Var& boxes,
                                     const Tensor& targets, float lambda);

}  // namespace dl
