// Elementwise math with NumPy broadcasting. Every output element depends on its
// inputs only, so the OpenMP loops are deterministic for any thread count.
#include <cmath>

#include "tensor/map.h"
#include "tensor/ops.h"

namespace dl {

namespace {

constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

// Strides of `s` right-aligned into `out` rank, 0 where `s` broadcasts.
std::vector<int64_t> broadcast_strides(const Shape& s, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t stride = 1;
  for (int i = static_cast<int>(s.size()) - 1, j = static_cast<int>(out.size()) - 1; i >= 0;
       --i, --j) {
    st[j] = s[i] == 1 ? 0 : stride;
    stride *= s[i];
  }
  return st;
}

// Maps flat output index -> flat input offset for a broadcast input.
int64_t offset_of(int64_t flat, const Shape& out, const std::vector<int64_t>& st) {
  int64_t off = 0;
  for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
    int64_t i = flat % out[d];
    flat /= out[d];
    off += i * st[d];
  }
  return off;
}

template <class F>
Tensor binary(const Tensor& a, const Tensor& b, const char* op, F f) {
  check_shape(a.defined() && b.defined(), op, "undefined tensor");
  if (a.shape() == b.shape()) return map2(a, b, f);
  Shape os = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out(os);
  auto sa = broadcast_strides(a.shape(), os);
  auto sb = broadcast_strides(b.shape(), os);
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  const int64_t n = out.numel();
  // Innermost-dimension runs keep the common [N,C,H,W] + [C,1,1] case fast.
  const int64_t inner = os.empty() ? 1 : os.back();
  const int64_t ia = sa.empty() ? 0 : sa.back(), ib = sb.empty() ? 0 : sb.back();
  const int64_t rows = inner ? n / inner : 0;
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t oa = offset_of(r * inner, os, sa), ob = offset_of(r * inner, os, sb);
    float* o = po + r * inner;
    for (int64_t i = 0; i < inner; ++i) o[i] = f(pa[oa + i * ia], pb[ob + i * ib]);
  }
  return out;
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    check_shape(da == db || da == 1 || db == 1, op,
                "shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor broadcast_to(const Tensor& t, const Shape& s) {
  Shape bs = broadcast_shapes(t.shape(), s, "broadcast_to");
  check_shape(bs == s, "broadcast_to",
              "cannot broadcast " + t.shape_str() + " to " + shape_str(s));
  return binary(t, Tensor(s), "broadcast_to", [](float x, float) { return x; });
}

Tensor sum_to(const Tensor& t, const Shape& s) {
  if (t.shape() == s) return t;
  check_shape(t.dim() >= static_cast<int>(s.size()), "sum_to",
              "cannot sum " + t.shape_str() + " down to " + shape_str(s));
  std::vector<int> axes;
  const int lead = t.dim() - static_cast<int>(s.size());
  for (int i = 0; i < t.dim(); ++i) {
    if (i < lead) {
      axes.push_back(i);
    } else if (s[i - lead] == 1 && t.shape()[i] != 1) {
      axes.push_back(i);
    } else {
      check_shape(s[i - lead] == t.shape()[i], "sum_to",
                  "cannot sum " + t.shape_str() + " down to " + shape_str(s));
    }
  }
  return sum(t, axes, true).reshape(s);
}

Tensor add(const Tensor& a, const Tensor& b) {
  return binary(a, b, "add", [](float x, float y) { return x + y; });
}
Tensor sub(const Tensor& a, const Tensor& b) {
  return binary(a, b, "sub", [](float x, float y) { return x - y; });
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary(a, b, "mul", [](float x, float y) { return x * y; });
}
Tensor div(const Tensor& a, const Tensor& b) {
  return binary(a, b, "div", [](float x, float y) { return x / y; });
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary(a, b, "maximum", [](float x, float y) { return x >= y ? x : y; });
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary(a, b, "minimum", [](float x, float y) { return x <= y ? x : y; });
}
Tensor eq(const Tensor& a, const Tensor& b) {
  return binary(a, b, "eq", [](float x, float y) { return x == y ? 1.0f : 0.0f; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return binary(a, b, "ne", [](float x, float y) { return x != y ? 1.0f : 0.0f; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return binary(a, b, "lt", [](float x, float y) { return x < y ? 1.0f : 0.0f; });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return binary(a, b, "le", [](float x, float y) { return x <= y ? 1.0f : 0.0f; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return binary(a, b, "gt", [](float x, float y) { return x > y ? 1.0f : 0.0f; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return binary(a, b, "ge", [](float x, float y) { return x >= y ? 1.0f : 0.0f; });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  // cond selects between a and b: select(cond, a) + select(!cond, b) keeps NaN-free.
  Tensor ca = binary(cond, a, "where", [](float c, float x) { return c != 0.0f ? x : 0.0f; });
  Tensor cb = binary(cond, b, "where", [](float c, float x) { return c != 0.0f ? 0.0f : x; });
  return binary(ca, cb, "where", [](float x, float y) { return x + y; });
}

Tensor add(const Tensor& a, float s) {
  return map1(a, [s](float x) { return x + s; });
}
Tensor mul(const Tensor& a, float s) {
  return map1(a, [s](float x) { return x * s; });
}
Tensor neg(const Tensor& a) {
  return map1(a, [](float x) { return -x; });
}
Tensor exp(const Tensor& a) {
  return map1(a, [](float x) { return std::exp(x); });
}
Tensor log(const Tensor& a) {
  return map1(a, [](float x) { return std::log(x); });
}
Tensor sqrt(const Tensor& a) {
  return map1(a, [](float x) { return std::sqrt(x); });
}
Tensor abs(const Tensor& a) {
  return map1(a, [](float x) { return std::fabs(x); });
}
Tensor pow(const Tensor& a, float p) {
  if (p == 2.0f) return map1(a, [](float x) { return x * x; });
  return map1(a, [p](float x) { return std::pow(x, p); });
}
Tensor clamp(const Tensor& a, float lo, float hi) {
  check_shape(lo <= hi, "clamp", "lo > hi");
  return map1(a, [lo, hi](float x) { return x < lo ? lo : (x > hi ? hi : x); });
}

void axpy_(Tensor& a, float alpha, const Tensor& b) {
  check_shape(a.shape() == b.shape(), "axpy_",
              "shapes " + a.shape_str() + " and " + b.shape_str() + " differ");
  float* pa = a.data();
  const float* pb = b.data();
  const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) pa[i] += alpha * pb[i];
}

void scale_(Tensor& a, float s) {
  float* pa = a.data();
  const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) pa[i] *= s;
}

// ---- creation ------------------------------------------------------------------

Tensor zeros(const Shape& s) { return Tensor(s, 0.0f); }
Tensor ones(const Shape& s) { return Tensor(s, 1.0f); }
Tensor full(const Shape& s, float v) { return Tensor(s, v); }
Tensor zeros_like(const Tensor& t) { return Tensor(t.shape(), 0.0f); }

Tensor arange(int64_t n) {
  Tensor t({n});
  for (int64_t i = 0; i < n; ++i) t[i] = static_cast<float>(i);
  return t;
}

Tensor arange(float start, float stop, float step) {
  check_shape(step != 0.0f, "arange", "step must be non-zero");
  int64_t n = static_cast<int64_t>(std::ceil((stop - start) / step));
  if (n < 0) n = 0;
  Tensor t({n});
  for (int64_t i = 0; i < n; ++i) t[i] = start + step * static_cast<float>(i);
  return t;
}

// Random fills draw sequentially from one generator: the same numbers whatever
// the thread count.
Tensor uniform(const Shape& s, float lo, float hi, Rng& rng) {
  Tensor t(s);
  for (float& v : t) v = rng.uniform(lo, hi);
  return t;
}

Tensor normal(const Shape& s, float mean, float stddev, Rng& rng) {
  Tensor t(s);
  for (float& v : t) v = rng.normal(mean, stddev);
  return t;
}

}  // namespace dl
