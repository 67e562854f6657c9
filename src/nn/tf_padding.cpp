#include "nn/tf_padding.h"

#include <algorithm>
#include <limits>

namespace dl::nn {

SamePadding tf_same_padding(int64_t in, int kernel, int stride) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {static_cast<int>(total / 2), static_cast<int>(total - total / 2)};
}

Var max_pool2d_same(const Var& x, int kernel, int stride) {
  const SamePadding ph = tf_same_padding(x.value().size(2), kernel, stride);
  const SamePadding pw = tf_same_padding(x.value().size(3), kernel, stride);
  Var padded = x;
  if (ph.before || ph.after || pw.before || pw.after)
    padded = ag::pad2d(x, ph.before, ph.after, pw.before, pw.after,
                       -std::numeric_limits<float>::infinity());
  ag::Pool2dOptions o;
  o.kernel_h = o.kernel_w = kernel;
  o.stride_h = o.stride_w = stride;
  return ag::max_pool2d(padded, o);
}

}  // namespace dl::nn
