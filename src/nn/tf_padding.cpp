#include "nn/tf_padding.h"

#include <algorithm>
#include <limits>

namespace dl::nn {

SamePadding tf_same_padding(int64_t in, int kernel, int stride) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {static_cast<int>(total / 2), static_cast<int>(total - total / 2)};
}

namespace {

// PyTorch's ceil_mode pools a partial last window (out = ceil((in - k) / s) + 1), which
// is TF's "same" when all the padding goes after and the counts agree (2x2/2 on an odd
// map): no padded copy of the map is then needed.
bool same_is_ceil_mode(int64_t in, int kernel, int stride) {
  const SamePadding p = tf_same_padding(in, kernel, stride);
  const int64_t ceil_out = (in - kernel + stride - 1) / stride + 1;
  return p.before == 0 && in >= kernel && ceil_out == (in + stride - 1) / stride;
}

}  // namespace

Var max_pool2d_same(const Var& x, int kernel, int stride) {
  const int64_t h = x.value().size(2), w = x.value().size(3);
  ag::Pool2dOptions o;
  o.kernel_h = o.kernel_w = kernel;
  o.stride_h = o.stride_w = stride;
  if (same_is_ceil_mode(h, kernel, stride) && same_is_ceil_mode(w, kernel, stride)) {
    o.ceil_mode = true;
    return ag::max_pool2d(x, o);
  }
  const SamePadding ph = tf_same_padding(h, kernel, stride);
  const SamePadding pw = tf_same_padding(w, kernel, stride);
  const Var padded = ag::pad2d(x, ph.before, ph.after, pw.before, pw.after,
                               -std::numeric_limits<float>::infinity());
  return ag::max_pool2d(padded, o);
}

Var conv2d_same(const Var& x, const Var& weight, const Var& bias, int stride, int groups) {
  const int kh = static_cast<int>(weight.value().size(2)), kw = static_cast<int>(weight.value().size(3));
  const SamePadding ph = tf_same_padding(x.value().size(2), kh, stride);
  const SamePadding pw = tf_same_padding(x.value().size(3), kw, stride);
  ag::Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.groups = groups;
  if (ph.before == ph.after && pw.before == pw.after) {
    o.pad_h = ph.before;
    o.pad_w = pw.before;
    return ag::conv2d(x, weight, bias, o);
  }
  return ag::conv2d(ag::pad2d(x, ph.before, ph.after, pw.before, pw.after), weight, bias, o);
}

}  // namespace dl::nn
