// Reductions. Each output element is accumulated by one thread in a fixed order
// (no thread-order-dependent sums), so results are identical for any thread count.
#include <algorithm>
#include <cmath>

#include "tensor/ops.h"

namespace dl {

namespace {

Shape reduced_shape(const Shape& s, int axis, bool keepdim) {
  Shape out = s;
  if (keepdim)
    out[axis] = 1;
  else
    out.erase(out.begin() + axis);
  return out;
}

Tensor sum_axis(const Tensor& a, int axis) {  // keepdim
  const Lanes p = lanes_of(a.shape(), axis);
  Tensor out(reduced_shape(a.shape(), axis, true));
  const float* pa = a.data();
  float* po = out.data();
#pragma omp parallel for schedule(static) if (a.numel() > (1 << 15))
  for (int64_t o = 0; o < p.outer; ++o) {
    float* dst = po + o * p.inner;
    const float* src = pa + o * p.len * p.inner;
    if (p.inner == 1) {
      float acc = 0.0f;
      for (int64_t r = 0; r < p.len; ++r) acc += src[r];
      dst[0] = acc;
    } else {
      for (int64_t r = 0; r < p.len; ++r)
        for (int64_t i = 0; i < p.inner; ++i) dst[i] += src[r * p.inner + i];
    }
  }
  return out;
}

template <class Better>
Tensor select_axis(const Tensor& a, int axis, bool keepdim, bool want_index, Better better,
                   const char* op) {
  axis = normalize_axis(axis, a.dim(), op);
  check_shape(a.shape()[axis] > 0, op, "cannot reduce an empty axis of " + a.shape_str());
  const Lanes p = lanes_of(a.shape(), axis);
  Tensor out(reduced_shape(a.shape(), axis, keepdim));
  const float* pa = a.data();
  float* po = out.data();
#pragma omp parallel for schedule(static) if (a.numel() > (1 << 15))
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t i = 0; i < p.inner; ++i) {
      const float* src = pa + o * p.len * p.inner + i;
      int64_t best = 0;
      for (int64_t r = 1; r < p.len; ++r)
        if (better(src[r * p.inner], src[best * p.inner])) best = r;
      po[o * p.inner + i] = want_index ? static_cast<float>(best) : src[best * p.inner];
    }
  return out;
}

// NaN counts as the largest value, as in torch.max.
bool greater(float x, float y) { return x > y || (std::isnan(x) && !std::isnan(y)); }
bool less(float x, float y) { return x < y || (std::isnan(x) && !std::isnan(y)); }

}  // namespace

Tensor sum(const Tensor& a, const std::vector<int>& axes_in, bool keepdim) {
  std::vector<int> axes;
  for (int ax : axes_in) axes.push_back(normalize_axis(ax, a.dim(), "sum"));
  std::sort(axes.begin(), axes.end());
  check_shape(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), "sum",
              "repeated axis");
  Tensor out = a;
  for (auto it = axes.rbegin(); it != axes.rend(); ++it) out = sum_axis(out, *it);
  if (axes.empty()) out = a.clone();
  if (!keepdim) {
    Shape s;
    for (int i = 0; i < a.dim(); ++i)
      if (!std::binary_search(axes.begin(), axes.end(), i)) s.push_back(a.shape()[i]);
    out = out.reshape(s);
  }
  return out;
}

Tensor mean(const Tensor& a, const std::vector<int>& axes, bool keepdim) {
  int64_t count = 1;
  for (int ax : axes) count *= a.shape()[normalize_axis(ax, a.dim(), "mean")];
  check_shape(count > 0, "mean", "mean over an empty axis of " + a.shape_str());
  Tensor s = sum(a, axes, keepdim);
  scale_(s, 1.0f / static_cast<float>(count));
  return s;
}

Tensor max(const Tensor& a, int axis, bool keepdim) {
  return select_axis(a, axis, keepdim, false, greater, "max");
}
Tensor min(const Tensor& a, int axis, bool keepdim) {
  return select_axis(a, axis, keepdim, false, less, "min");
}
Tensor argmax(const Tensor& a, int axis, bool keepdim) {
  return select_axis(a, axis, keepdim, true, greater, "argmax");
}

float sum_all(const Tensor& a) {
  double acc = 0.0;
  for (float v : a) acc += v;
  return static_cast<float>(acc);
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  check_shape(a.shape() == b.shape(), "max_abs_diff",
              "shapes " + a.shape_str() + " and " + b.shape_str() + " differ");
  float m = 0.0f;
  for (int64_t i = 0; i < a.numel(); ++i) {
    float d = std::fabs(a[i] - b[i]);
    if (std::isnan(d)) return d;
    m = std::max(m, d);
  }
  return m;
}

}  // namespace dl
