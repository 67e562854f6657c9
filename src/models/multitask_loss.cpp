#include "models/multitask_loss.h"

#include "autograd/ops.h"

namespace dl {

MultitaskLoss classify_localize_loss(const Var& scores, const Tensor& labels, const Var& boxes,
                                     const Tensor& targets, float lambda) {
  check_shape(scores.dim() == 2 && labels.dim() == 1 && labels.size(0) == scores.size(0),
              "classify_localize_loss", "scores [N, C] and labels [N], got " +
                  shape_str(scores.shape()) + " and " + labels.shape_str());
  check_shape(boxes.dim() == 2 && boxes.size(1) == 4 && boxes.shape() == targets.shape() &&
                  boxes.size(0) == scores.size(0),
              "classify_localize_loss", "boxes and targets [N, 4], got " +
                  shape_str(boxes.shape()) + " and " + targets.shape_str());
  MultitaskLoss l;
  l.classification = ag::cross_entropy(scores, labels);
  l.localization = ag::mul(ag::sum_all(ag::mse(boxes, targets, ag::Reduction::None)),
                           1.0f / static_cast<float>(scores.size(0)));
  l.total = ag::add(l.classification, ag::mul(l.localization, lambda));
  return l;
}

}  // namespace dl
