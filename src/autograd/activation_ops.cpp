// Activations, softmax and dropout. Softmax subtracts each row's maximum before
// exponentiating, so large logits never overflow (softmax is shift-invariant).
#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "tensor/map.h"

namespace dl::ag {

namespace {

Node& in(Node& n, int i) { return *n.inputs[i]; }

constexpr int64_t kParallelMin = 1 << 15;


// Writes log_softmax (log = true) or softmax of every lane of x into out.
void softmax_lanes(const Tensor& x, Tensor& out, const Lanes& l, bool log) {
  const float* px = x.data();
  float* po = out.data();
#pragma omp parallel for collapse(2) schedule(static) if (x.numel() > kParallelMin)
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i) {
      const float* src = px + o * l.len * l.inner + i;
      float* dst = po + o * l.len * l.inner + i;
      float m = -INFINITY;
      for (int64_t k = 0; k < l.len; ++k) m = std::max(m, src[k * l.inner]);
      double s = 0.0;
      for (int64_t k = 0; k < l.len; ++k) s += std::exp(static_cast<double>(src[k * l.inner] - m));
      if (log) {
        const float lse = m + static_cast<float>(std::log(s));
        for (int64_t k = 0; k < l.len; ++k) dst[k * l.inner] = src[k * l.inner] - lse;
      } else {
        const double inv = 1.0 / s;
        for (int64_t k = 0; k < l.len; ++k)
          dst[k * l.inner] = static_cast<float>(std::exp(static_cast<double>(src[k * l.inner] - m)) * inv);
      }
    }
}

}  // namespace

Var relu(const Var& a) {
  Tensor v = map1(a.value(), [](float x) { return x > 0.0f ? x : 0.0f; });
  return make_result(v, "relu", {a}, [](Node& n) {
    accumulate_grad(in(n, 0), map2(in(n, 0).value, n.grad,
                                   [](float x, float g) { return x > 0.0f ? g : 0.0f; }));
  });
}

Var leaky_relu(const Var& a, float slope) {
  Tensor v = map1(a.value(), [slope](float x) { return x > 0.0f ? x : slope * x; });
  return make_result(v, "leaky_relu", {a}, [slope](Node& n) {
    accumulate_grad(in(n, 0), map2(in(n, 0).value, n.grad,
                                   [slope](float x, float g) { return x > 0.0f ? g : slope * g; }));
  });
}

Var relu6(const Var& a) {
  Tensor v = map1(a.value(), [](float x) { return std::min(std::max(x, 0.0f), 6.0f); });
  return make_result(v, "relu6", {a}, [](Node& n) {
    accumulate_grad(in(n, 0), map2(in(n, 0).value, n.grad, [](float x, float g) {
                      return x > 0.0f && x < 6.0f ? g : 0.0f;
                    }));
  });
}

Var sigmoid(const Var& a) {
  // Two branches so exp() only ever sees a non-positive argument.
  Tensor v = map1(a.value(), [](float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
  });
  return make_result(v, "sigmoid", {a}, [](Node& n) {
    accumulate_grad(in(n, 0), map2(n.value, n.grad,
                                   [](float y, float g) { return g * y * (1.0f - y); }));
  });
}

Var tanh(const Var& a) {
  Tensor v = map1(a.value(), [](float x) { return std::tanh(x); });
  return make_result(v, "tanh", {a}, [](Node& n) {
    accumulate_grad(in(n, 0), map2(n.value, n.grad,
                                   [](float y, float g) { return g * (1.0f - y * y); }));
  });
}

Var softmax(const Var& a, int axis) {
  const int ax = normalize_axis(axis, a.dim(), "softmax");
  const Lanes l = lanes_of(a.shape(), ax);
  Tensor y(a.shape());
  softmax_lanes(a.value(), y, l, false);
  return make_result(y, "softmax", {a}, [l](Node& n) {
    // dx = y * (g - sum_k g_k y_k) along each lane.
    Tensor dx(n.value.shape());
    const float* py = n.value.data();
    const float* pg = n.grad.data();
    float* pd = dx.data();
#pragma omp parallel for collapse(2) schedule(static) if (dx.numel() > kParallelMin)
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t i = 0; i < l.inner; ++i) {
        const int64_t base = o * l.len * l.inner + i;
        double dot = 0.0;
        for (int64_t k = 0; k < l.len; ++k)
          dot += static_cast<double>(pg[base + k * l.inner]) * py[base + k * l.inner];
        for (int64_t k = 0; k < l.len; ++k) {
          const int64_t j = base + k * l.inner;
          pd[j] = py[j] * (pg[j] - static_cast<float>(dot));
        }
      }
    accumulate_grad(in(n, 0), std::move(dx));
  });
}

Var log_softmax(const Var& a, int axis) {
  const int ax = normalize_axis(axis, a.dim(), "log_softmax");
  const Lanes l = lanes_of(a.shape(), ax);
  Tensor y(a.shape());
  softmax_lanes(a.value(), y, l, true);
  return make_result(y, "log_softmax", {a}, [l](Node& n) {
    // dx = g - softmax * sum_k g_k, softmax = exp(log_softmax).
    Tensor dx(n.value.shape());
    const float* py = n.value.data();
    const float* pg = n.grad.data();
    float* pd = dx.data();
#pragma omp parallel for collapse(2) schedule(static) if (dx.numel() > kParallelMin)
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t i = 0; i < l.inner; ++i) {
        const int64_t base = o * l.len * l.inner + i;
        double gs = 0.0;
        for (int64_t k = 0; k < l.len; ++k) gs += pg[base + k * l.inner];
        for (int64_t k = 0; k < l.len; ++k) {
          const int64_t j = base + k * l.inner;
          pd[j] = pg[j] - std::exp(py[j]) * static_cast<float>(gs);
        }
      }
    accumulate_grad(in(n, 0), std::move(dx));
  });
}

Var dropout(const Var& a, float p, bool training, Rng& rng) {
  check_shape(p >= 0.0f && p <= 1.0f, "dropout",
              "probability must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0f) return a;
  // Inverted dropout (Srivastava et al. 2014, with the 1/(1-p) scale moved to training
  // time) so that inference is the identity. One draw per element, in order.
  Tensor mask(a.shape());
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  for (float& m : mask) m = rng.bernoulli(p) ? 0.0f : keep_scale;
  Tensor v = map2(a.value(), mask, [](float x, float m) { return x * m; });
  return make_result(v, "dropout", {a}, [mask](Node& n) {
    accumulate_grad(in(n, 0), map2(n.grad, mask, [](float g, float m) { return g * m; }));
  });
}

}  // namespace dl::ag
