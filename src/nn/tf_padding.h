// TensorFlow's padding "same", which networks imported from TensorFlow assume: the
// output has ceil(in / stride) positions, and the padding that needs is split with the
// smaller half before, so an odd total pads the right/bottom one more than the left/top
// (PyTorch's padding=k/2 is symmetric and would shift such a map by one pixel).
//   total = max((out - 1) * stride + kernel - in, 0),  before = total / 2.
#pragma once
#include <cstdint>

#include "autograd/ops.h"

namespace dl::nn {

struct SamePadding {
  int before = 0, after = 0;
};
SamePadding tf_same_padding(int64_t in, int kernel, int stride);

// Max pooling k x k / stride s with TensorFlow's "same" padding: padded cells never win
// (they are -infinity), so a window over the border takes the max of its real pixels.
Var max_pool2d_same(const Var& x, int kernel, int stride);

// conv2d with TensorFlow's "same" padding: symmetric padding through conv2d itself,
// an asymmetric one (3x3/2 on an even map: 0 before, 1 after) as a zero-padded copy.
Var conv2d_same(const Var& x, const Var& weight, const Var& bias, int stride, int groups = 1);

}  // namespace dl::nn
