// Losses, defined exactly as torch.nn.functional defines them so that golden values
// carry over. Each computes per-element losses in one pass, reduces them in a fixed
// order (double accumulator), and writes its gradient in closed form.
#include <cmath>

#include "autograd/ops.h"

namespace dl::ag {

namespace {

Node& in(Node& n, int i) { return *n.inputs[i]; }

constexpr int64_t kParallelMin = 1 << 15;

// Reduces per-element losses; Mean divides by `denom`.
Tensor reduce_loss(const Tensor& per, Reduction r, double denom) {
  if (r == Reduction::None) return per;
  double s = 0.0;
  for (float v : per) s += v;
  if (r == Reduction::Mean) s /= denom;
  return Tensor(Shape{}, static_cast<float>(s));
}

// The upstream gradient of element i: g[i] for None, g * inv (= g / denom) for Mean,
// g for Sum.
struct GradScale {
  const Tensor& g;
  Reduction r;
  float inv;
  float operator()(int64_t i) const {
    if (r == Reduction::None) return g[i];
    return r == Reduction::Mean ? g[0] * inv : g[0];
  }
};

void check_mean_not_empty(int64_t n, Reduction r, const char* op) {
  check_shape(n > 0 || r != Reduction::Mean, op, "mean of an empty input");
}

}  // namespace

// ---- cross-entropy ------------------------------------------------------------------
// loss_i = -w[t_i] * log softmax(x_i)[t_i]; Mean divides by sum_i w[t_i] over the
// non-ignored targets (torch's weighted mean).
Var cross_entropy(const Var& logits, const Tensor& target, const Tensor& weight,
                  int ignore_index, Reduction reduction) {
  const char* op = "cross_entropy";
  const Shape& xs = logits.shape();
  check_shape(logits.dim() >= 2, op,
              "logits must be [N, C] or [N, C, d1, ...], got " + shape_str(xs));
  Shape ts = xs;
  ts.erase(ts.begin() + 1);
  check_shape(target.defined() && target.shape() == ts, op,
              "target " + (target.defined() ? target.shape_str() : std::string("undefined")) +
                  " does not match logits " + shape_str(xs) + " (expected " + shape_str(ts) + ")");
  const int64_t C = xs[1];
  if (weight.defined())
    check_shape(weight.shape() == Shape{C}, op,
                "weight " + weight.shape_str() + " must be [" + std::to_string(C) + "]");
  check_mean_not_empty(target.numel(), reduction, op);
  const int64_t N = xs[0], inner = target.numel() / std::max<int64_t>(1, N);
  // Validate targets first (sequentially) so a bad one throws before any work.
  std::vector<int64_t> cls(target.numel());
  for (int64_t i = 0; i < target.numel(); ++i) {
    const float t = target[i];
    const int64_t c = static_cast<int64_t>(t);
    const bool ok = static_cast<float>(c) == t && ((c >= 0 && c < C) || c == ignore_index);
    check_shape(ok, op, "target " + std::to_string(t) + " at position " + std::to_string(i) +
                            " is not a class index in [0, " + std::to_string(C) + ")");
    cls[i] = c == ignore_index ? -1 : c;
  }

  // Position i = (n, j) reads logits x[n, c, j] for c in [0, C).
  const float* px = logits.value().data();
  const int64_t P = target.numel();
  Tensor per(ts), lse(ts), w_of(ts);
#pragma omp parallel for schedule(static) if (P * C > kParallelMin)
  for (int64_t i = 0; i < P; ++i) {
    const int64_t n = i / inner, j = i % inner;
    const float* x = px + n * C * inner + j;
    float m = -INFINITY;
    for (int64_t c = 0; c < C; ++c) m = std::max(m, x[c * inner]);
    double s = 0.0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(x[c * inner] - m));
    lse[i] = m + static_cast<float>(std::log(s));
    if (cls[i] < 0) {
      w_of[i] = 0.0f;
      per[i] = 0.0f;
    } else {
      w_of[i] = weight.defined() ? weight[cls[i]] : 1.0f;
      per[i] = -w_of[i] * (x[cls[i] * inner] - lse[i]);
    }
  }
  double wsum = 0.0;
  for (float w : w_of) wsum += w;
  Tensor out = reduce_loss(per, reduction, wsum);
  const float inv = reduction == Reduction::Mean ? static_cast<float>(1.0 / wsum) : 1.0f;
  return make_result(out, op, {logits}, [cls, lse, w_of, inner, C, P, reduction, inv](Node& n) {
    // d loss_i / d x_c = w[t_i] * (softmax_c - [c == t_i]).
    Tensor dx(n.inputs[0]->value.shape());
    const float* x = n.inputs[0]->value.data();
    float* pd = dx.data();
    GradScale gs{n.grad, reduction, inv};
#pragma omp parallel for schedule(static) if (P * C > kParallelMin)
    for (int64_t i = 0; i < P; ++i) {
      if (cls[i] < 0) continue;
      const int64_t nn = i / inner, j = i % inner;
      const float s = gs(i) * w_of[i];
      const int64_t base = nn * C * inner + j;
      for (int64_t c = 0; c < C; ++c)
        pd[base + c * inner] = s * (std::exp(x[base + c * inner] - lse[i]) - (c == cls[i] ? 1.0f : 0.0f));
    }
    accumulate_grad(in(n, 0), dx);
  });
}

// ---- binary cross-entropy with logits -------------------------------------------------
// loss = max(x, 0) - x t + log(1 + exp(-|x|)), the overflow-free form of
// -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]; gradient (sigmoid(x) - t).
Var binary_cross_entropy_with_logits(const Var& logits, const Tensor& target,
                                     const Tensor& weight, Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  check_shape(target.defined() && target.shape() == logits.shape(), op,
              "target " + (target.defined() ? target.shape_str() : std::string("undefined")) +
                  " does not match logits " + logits.value().shape_str());
  check_mean_not_empty(target.numel(), reduction, op);
  Tensor w = weight.defined() ? broadcast_to(weight, logits.shape()) : Tensor();
  const Tensor& x = logits.value();
  Tensor per(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float v = x[i];
    float l = std::max(v, 0.0f) - v * target[i] + std::log1p(std::exp(-std::fabs(v)));
    per[i] = w.defined() ? l * w[i] : l;
  }
  Tensor out = reduce_loss(per, reduction, static_cast<double>(x.numel()));
  const float inv = 1.0f / static_cast<float>(std::max<int64_t>(1, x.numel()));
  return make_result(out, op, {logits}, [target, w, reduction, inv](Node& n) {
    const Tensor& x = n.inputs[0]->value;
    Tensor dx(x.shape());
    GradScale gs{n.grad, reduction, inv};
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float v = x[i];
      const float sig = v >= 0.0f ? 1.0f / (1.0f + std::exp(-v)) : std::exp(v) / (1.0f + std::exp(v));
      dx[i] = gs(i) * (sig - target[i]) * (w.defined() ? w[i] : 1.0f);
    }
    accumulate_grad(in(n, 0), dx);
  });
}

// ---- smooth L1 ------------------------------------------------------------------------
// Fast R-CNN (Girshick 2015) eq. 3 with PyTorch's beta: 0.5 d^2 / beta where |d| < beta,
// |d| - 0.5 beta elsewhere; beta = 0 is plain L1.
Var smooth_l1(const Var& pred, const Tensor& target, float beta, Reduction reduction) {
  const char* op = "smooth_l1";
  check_shape(beta >= 0.0f, op, "beta must be non-negative, got " + std::to_string(beta));
  check_shape(target.defined() && target.shape() == pred.shape(), op,
              "target " + (target.defined() ? target.shape_str() : std::string("undefined")) +
                  " does not match prediction " + pred.value().shape_str());
  check_mean_not_empty(target.numel(), reduction, op);
  const Tensor& x = pred.value();
  Tensor per(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float d = std::fabs(x[i] - target[i]);
    per[i] = d < beta ? 0.5f * d * d / beta : d - 0.5f * beta;
  }
  Tensor out = reduce_loss(per, reduction, static_cast<double>(x.numel()));
  const float inv = 1.0f / static_cast<float>(std::max<int64_t>(1, x.numel()));
  return make_result(out, op, {pred}, [target, beta, reduction, inv](Node& n) {
    const Tensor& x = n.inputs[0]->value;
    Tensor dx(x.shape());
    GradScale gs{n.grad, reduction, inv};
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float d = x[i] - target[i];
      const float sign = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
      dx[i] = gs(i) * (std::fabs(d) < beta ? d / beta : sign);
    }
    accumulate_grad(in(n, 0), dx);
  });
}

// ---- mean squared error ---------------------------------------------------------------
Var mse(const Var& pred, const Tensor& target, Reduction reduction) {
  const char* op = "mse";
  check_shape(target.defined() && target.shape() == pred.shape(), op,
              "target " + (target.defined() ? target.shape_str() : std::string("undefined")) +
                  " does not match prediction " + pred.value().shape_str());
  check_mean_not_empty(target.numel(), reduction, op);
  const Tensor& x = pred.value();
  Tensor per(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float d = x[i] - target[i];
    per[i] = d * d;
  }
  Tensor out = reduce_loss(per, reduction, static_cast<double>(x.numel()));
  const float inv = 1.0f / static_cast<float>(std::max<int64_t>(1, x.numel()));
  return make_result(out, op, {pred}, [target, reduction, inv](Node& n) {
    const Tensor& x = n.inputs[0]->value;
    Tensor dx(x.shape());
    GradScale gs{n.grad, reduction, inv};
    for (int64_t i = 0; i < x.numel(); ++i) dx[i] = gs(i) * 2.0f * (x[i] - target[i]);
    accumulate_grad(in(n, 0), dx);
  });
}

}  // namespace dl::ag
