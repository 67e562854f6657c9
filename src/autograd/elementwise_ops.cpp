// Elementwise ops. Broadcasting inputs get their gradient summed back to their own
// shape (sum_to), the backward of broadcasting.
#include <cmath>

#include "autograd/ops.h"

namespace dl::ag {

namespace {
Node& in(Node& n, int i) { return *n.inputs[i]; }
}  // namespace

Var add(const Var& a, const Var& b) {
  return make_result(dl::add(a.value(), b.value()), "add", {a, b}, [](Node& n) {
    accumulate_grad(in(n, 0), sum_to(n.grad, in(n, 0).value.shape()));
    accumulate_grad(in(n, 1), sum_to(n.grad, in(n, 1).value.shape()));
  });
}

Var sub(const Var& a, const Var& b) {
  return make_result(dl::sub(a.value(), b.value()), "sub", {a, b}, [](Node& n) {
    accumulate_grad(in(n, 0), sum_to(n.grad, in(n, 0).value.shape()));
    accumulate_grad(in(n, 1), sum_to(dl::neg(n.grad), in(n, 1).value.shape()));
  });
}

Var mul(const Var& a, const Var& b) {
  return make_result(dl::mul(a.value(), b.value()), "mul", {a, b}, [](Node& n) {
    const Tensor& x = in(n, 0).value;
    const Tensor& y = in(n, 1).value;
    if (in(n, 0).requires_grad) accumulate_grad(in(n, 0), sum_to(dl::mul(n.grad, y), x.shape()));
    if (in(n, 1).requires_grad) accumulate_grad(in(n, 1), sum_to(dl::mul(n.grad, x), y.shape()));
  });
}

Var div(const Var& a, const Var& b) {
  return make_result(dl::div(a.value(), b.value()), "div", {a, b}, [](Node& n) {
    const Tensor& x = in(n, 0).value;
    const Tensor& y = in(n, 1).value;
    if (in(n, 0).requires_grad) accumulate_grad(in(n, 0), sum_to(dl::div(n.grad, y), x.shape()));
    if (in(n, 1).requires_grad) {
      // d(x/y)/dy = -x / y^2 = -out / y
      Tensor g = dl::neg(dl::div(dl::mul(n.grad, n.value), y));
      accumulate_grad(in(n, 1), sum_to(g, y.shape()));
    }
  });
}

Var add(const Var& a, float s) {
  return make_result(dl::add(a.value(), s), "add_scalar", {a},
                     [](Node& n) { accumulate_grad(in(n, 0), n.grad); });
}

Var mul(const Var& a, float s) {
  return make_result(dl::mul(a.value(), s), "mul_scalar", {a},
                     [s](Node& n) { accumulate_grad(in(n, 0), dl::mul(n.grad, s)); });
}

Var neg(const Var& a) {
  return make_result(dl::neg(a.value()), "neg", {a},
                     [](Node& n) { accumulate_grad(in(n, 0), dl::neg(n.grad)); });
}

Var exp(const Var& a) {
  return make_result(dl::exp(a.value()), "exp", {a},
                     [](Node& n) { accumulate_grad(in(n, 0), dl::mul(n.grad, n.value)); });
}

Var log(const Var& a) {
  return make_result(dl::log(a.value()), "log", {a}, [](Node& n) {
    accumulate_grad(in(n, 0), dl::div(n.grad, in(n, 0).value));
  });
}

Var sqrt(const Var& a) {
  return make_result(dl::sqrt(a.value()), "sqrt", {a}, [](Node& n) {
    // d sqrt(x) = 1 / (2 sqrt(x))
    accumulate_grad(in(n, 0), dl::div(dl::mul(n.grad, 0.5f), n.value));
  });
}

Var pow(const Var& a, float p) {
  return make_result(dl::pow(a.value(), p), "pow", {a}, [p](Node& n) {
    Tensor d = dl::mul(dl::pow(in(n, 0).value, p - 1.0f), p);
    accumulate_grad(in(n, 0), dl::mul(n.grad, d));
  });
}

Var clamp(const Var& a, float lo, float hi) {
  return make_result(dl::clamp(a.value(), lo, hi), "clamp", {a}, [lo, hi](Node& n) {
    const Tensor& x = in(n, 0).value;
    Tensor g(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) g[i] = (x[i] >= lo && x[i] <= hi) ? n.grad[i] : 0.0f;
    accumulate_grad(in(n, 0), std::move(g));
  });
}

Var abs(const Var& a) {
  return make_result(dl::abs(a.value()), "abs", {a}, [](Node& n) {
    const Tensor& x = in(n, 0).value;
    Tensor g(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i)
      g[i] = x[i] > 0.0f ? n.grad[i] : (x[i] < 0.0f ? -n.grad[i] : 0.0f);
    accumulate_grad(in(n, 0), std::move(g));
  });
}

}  // namespace dl::ag
