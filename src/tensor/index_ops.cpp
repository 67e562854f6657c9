// index_select / gather and their scatter backwards. Indices are floats holding
// exact integers; each is bounds-checked.
#include <algorithm>

#include "tensor/ops.h"

namespace dl {

namespace {

int64_t prod(const Shape& s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; ++i) p *= s[i];
  return p;
}

int64_t checked_index(float v, int64_t len, const char* op) {
  int64_t i = static_cast<int64_t>(v);
  check_shape(static_cast<float>(i) == v && i >= 0 && i < len, op,
              "index " + std::to_string(v) + " out of range [0, " + std::to_string(len) + ")");
  return i;
}

}  // namespace

Tensor index_select(const Tensor& a, int axis, const Tensor& index) {
  axis = normalize_axis(axis, a.dim(), "index_select");
  check_shape(index.dim() == 1, "index_select", "index must be 1-d, got " + index.shape_str());
  Shape os = a.shape();
  os[axis] = index.numel();
  Tensor out(os);
  const int64_t outer = prod(a.shape(), 0, axis), inner = prod(a.shape(), axis + 1, a.dim());
  const int64_t len = a.shape()[axis];
  for (int64_t k = 0; k < index.numel(); ++k) {
    int64_t src = checked_index(index[k], len, "index_select");
    for (int64_t o = 0; o < outer; ++o)
      std::copy_n(a.data() + (o * len + src) * inner, inner,
                  out.data() + (o * index.numel() + k) * inner);
  }
  return out;
}

Tensor index_add(const Shape& shape, int axis, const Tensor& index, const Tensor& src) {
  Tensor out(shape);
  axis = normalize_axis(axis, out.dim(), "index_add");
  check_shape(index.dim() == 1 && src.dim() == out.dim() && src.shape()[axis] == index.numel(),
              "index_add", "src " + src.shape_str() + " does not match index " +
                               index.shape_str() + " for shape " + shape_str(shape));
  const int64_t outer = prod(shape, 0, axis), inner = prod(shape, axis + 1, out.dim());
  const int64_t len = shape[axis];
  // Sequential over k: repeated indices accumulate in index order.
  for (int64_t k = 0; k < index.numel(); ++k) {
    int64_t dst = checked_index(index[k], len, "index_add");
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i)
        out.data()[(o * len + dst) * inner + i] += src.data()[(o * index.numel() + k) * inner + i];
  }
  return out;
}

namespace {

// A flat offset over dims [lo, hi) of `from` (the index tensor's shape), decomposed and
// re-linearised over the same dims of `to` (the data tensor's shape), where sizes differ.
int64_t relinearize(int64_t flat, const Shape& from, const Shape& to, int lo, int hi) {
  int64_t out = 0, mul = 1;
  for (int d = hi - 1; d >= lo; --d) {
    out += (flat % from[d]) * mul;
    flat /= from[d];
    mul *= to[d];
  }
  return out;
}

}  // namespace

Tensor gather(const Tensor& a, int axis, const Tensor& index) {
  axis = normalize_axis(axis, a.dim(), "gather");
  check_shape(index.dim() == a.dim(), "gather", "index rank must equal input rank");
  for (int i = 0; i < a.dim(); ++i)
    check_shape(i == axis || index.shape()[i] <= a.shape()[i], "gather",
                "index " + index.shape_str() + " larger than input " + a.shape_str());
  Tensor out(index.shape());
  const Shape& is = index.shape();
  const int64_t outer = prod(is, 0, axis), inner = prod(is, axis + 1, a.dim());
  const int64_t ilen = is[axis], alen = a.shape()[axis];
  const int64_t a_inner = prod(a.shape(), axis + 1, a.dim());
  // Map the index tensor's outer/inner coordinates into a's strides.
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < ilen; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t flat = (o * ilen + k) * inner + i;
        int64_t src = checked_index(index[flat], alen, "gather");
        const int64_t ao = relinearize(o, is, a.shape(), 0, axis);
        const int64_t ai = relinearize(i, is, a.shape(), axis + 1, a.dim());
        out[flat] = a.data()[(ao * alen + src) * a_inner + ai];
      }
  return out;
}

Tensor scatter_add(const Shape& shape, int axis, const Tensor& index, const Tensor& src) {
  Tensor out(shape);
  axis = normalize_axis(axis, out.dim(), "scatter_add");
  check_shape(index.shape() == src.shape() && index.dim() == out.dim(), "scatter_add",
              "index " + index.shape_str() + " and src " + src.shape_str() + " must match");
  const Shape& is = index.shape();
  const int64_t outer = prod(is, 0, axis), inner = prod(is, axis + 1, out.dim());
  const int64_t ilen = is[axis], olen = shape[axis];
  const int64_t o_inner = prod(shape, axis + 1, out.dim());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < ilen; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t flat = (o * ilen + k) * inner + i;
        int64_t dst = checked_index(index[flat], olen, "scatter_add");
        const int64_t ao = relinearize(o, is, shape, 0, axis);
        const int64_t ai = relinearize(i, is, shape, axis + 1, out.dim());
        out.data()[(ao * olen + dst) * o_inner + ai] += src[flat];
      }
  return out;
}

}  // namespace dl
