// Permute, slice, concat, stack, pad: copies that rearrange elements.
#include <algorithm>

#include "tensor/ops.h"

namespace dl {

namespace {

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

int64_t prod(const Shape& s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; ++i) p *= s[i];
  return p;
}

}  // namespace

Tensor permute(const Tensor& a, const std::vector<int>& perm) {
  const int nd = a.dim();
  check_shape(static_cast<int>(perm.size()) == nd, "permute",
              std::to_string(perm.size()) + " axes for a " + std::to_string(nd) + "-d tensor");
  std::vector<int> p(nd);
  std::vector<bool> seen(nd, false);
  for (int i = 0; i < nd; ++i) {
    p[i] = normalize_axis(perm[i], nd, "permute");
    check_shape(!seen[p[i]], "permute", "axis repeated in permutation");
    seen[p[i]] = true;
  }
  Shape os(nd);
  for (int i = 0; i < nd; ++i) os[i] = a.shape()[p[i]];
  Tensor out(os);
  auto ist = strides_of(a.shape());
  std::vector<int64_t> src_st(nd);
  for (int i = 0; i < nd; ++i) src_st[i] = ist[p[i]];
  const float* pa = a.data();
  float* po = out.data();
  const int64_t n = out.numel();
  const int64_t inner = nd ? os[nd - 1] : 1;
  const int64_t rows = inner ? n / inner : 0;
  const int64_t last = nd ? src_st[nd - 1] : 0;
#pragma omp parallel for schedule(static) if (n > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    int64_t flat = r, off = 0;
    for (int d = nd - 2; d >= 0; --d) {
      off += (flat % os[d]) * src_st[d];
      flat /= os[d];
    }
    float* dst = po + r * inner;
    for (int64_t i = 0; i < inner; ++i) dst[i] = pa[off + i * last];
  }
  return out;
}

Tensor transpose(const Tensor& a, int ax0, int ax1) {
  std::vector<int> p(a.dim());
  for (int i = 0; i < a.dim(); ++i) p[i] = i;
  std::swap(p[normalize_axis(ax0, a.dim(), "transpose")],
            p[normalize_axis(ax1, a.dim(), "transpose")]);
  return permute(a, p);
}

Tensor slice(const Tensor& a, int axis, int64_t start, int64_t end, int64_t step) {
  axis = normalize_axis(axis, a.dim(), "slice");
  const int64_t len = a.shape()[axis];
  check_shape(step > 0, "slice", "step must be positive");
  check_shape(0 <= start && start <= end && end <= len, "slice",
              "range [" + std::to_string(start) + ", " + std::to_string(end) +
                  ") out of bounds for axis " + std::to_string(axis) + " of " + a.shape_str());
  Shape os = a.shape();
  os[axis] = (end - start + step - 1) / step;
  Tensor out(os);
  const int64_t outer = prod(a.shape(), 0, axis), inner = prod(a.shape(), axis + 1, a.dim());
  const float* pa = a.data();
  float* po = out.data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < os[axis]; ++k)
      std::copy_n(pa + (o * len + start + k * step) * inner, inner,
                  po + (o * os[axis] + k) * inner);
  return out;
}

void slice_assign_(Tensor& dst, int axis, int64_t start, const Tensor& src) {
  axis = normalize_axis(axis, dst.dim(), "slice_assign_");
  check_shape(src.dim() == dst.dim(), "slice_assign_", "rank mismatch");
  for (int i = 0; i < dst.dim(); ++i)
    check_shape(i == axis || src.shape()[i] == dst.shape()[i], "slice_assign_",
                "cannot place " + src.shape_str() + " into " + dst.shape_str());
  const int64_t len = dst.shape()[axis], n = src.shape()[axis];
  check_shape(start >= 0 && start + n <= len, "slice_assign_", "slice out of bounds");
  const int64_t outer = prod(dst.shape(), 0, axis), inner = prod(dst.shape(), axis + 1, dst.dim());
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(src.data() + o * n * inner, n * inner, dst.data() + (o * len + start) * inner);
}

Tensor concat(const std::vector<Tensor>& ts, int axis) {
  check_shape(!ts.empty(), "concat", "needs at least one tensor");
  axis = normalize_axis(axis, ts[0].dim(), "concat");
  Shape os = ts[0].shape();
  os[axis] = 0;
  for (const Tensor& t : ts) {
    check_shape(t.dim() == ts[0].dim(), "concat", "rank mismatch");
    for (int i = 0; i < t.dim(); ++i)
      check_shape(i == axis || t.shape()[i] == ts[0].shape()[i], "concat",
                  "shapes " + ts[0].shape_str() + " and " + t.shape_str() +
                      " differ outside axis " + std::to_string(axis));
    os[axis] += t.shape()[axis];
  }
  Tensor out(os);
  int64_t at = 0;
  for (const Tensor& t : ts) {
    slice_assign_(out, axis, at, t);
    at += t.shape()[axis];
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& ts, int axis) {
  check_shape(!ts.empty(), "stack", "needs at least one tensor");
  axis = normalize_axis(axis, ts[0].dim() + 1, "stack");
  std::vector<Tensor> us;
  for (const Tensor& t : ts) {
    check_shape(t.shape() == ts[0].shape(), "stack",
                "shapes " + ts[0].shape_str() + " and " + t.shape_str() + " differ");
    Shape s = t.shape();
    s.insert(s.begin() + axis, 1);
    us.push_back(t.reshape(s));
  }
  return concat(us, axis);
}

Tensor pad2d(const Tensor& a, int top, int bottom, int left, int right, float value) {
  check_shape(a.dim() >= 2, "pad2d", "needs at least 2 dims, got " + a.shape_str());
  check_shape(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "pad2d", "negative padding");
  const int64_t H = a.size(-2), W = a.size(-1), planes = a.numel() / std::max<int64_t>(1, H * W);
  Shape os = a.shape();
  os[os.size() - 2] = H + top + bottom;
  os[os.size() - 1] = W + left + right;
  Tensor out(os, value);
  const int64_t OH = os[os.size() - 2], OW = os[os.size() - 1];
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t y = 0; y < H; ++y)
      std::copy_n(a.data() + (p * H + y) * W, W, out.data() + (p * OH + y + top) * OW + left);
  return out;
}

}  // namespace dl
