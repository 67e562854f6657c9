// Reductions: the backward broadcasts the output gradient back over the reduced axes.
#include "autograd/ops.h"

namespace dl::ag {

namespace {

Node& in(Node& n, int i) { return *n.inputs[i]; }

// The reduced shape with the reduced axes kept as size 1, for broadcasting back.
Shape keepdim_shape(const Shape& s, const std::vector<int>& axes, const char* op) {
  Shape k = s;
  for (int ax : axes) k[normalize_axis(ax, static_cast<int>(s.size()), op)] = 1;
  return k;
}

}  // namespace

Var sum(const Var& a, const std::vector<int>& axes, bool keepdim) {
  Shape kshape = keepdim_shape(a.shape(), axes, "sum");
  return make_result(dl::sum(a.value(), axes, keepdim), "sum", {a}, [kshape](Node& n) {
    accumulate_grad(in(n, 0), broadcast_to(n.grad.reshape(kshape), in(n, 0).value.shape()));
  });
}

Var mean(const Var& a, const std::vector<int>& axes, bool keepdim) {
  Shape kshape = keepdim_shape(a.shape(), axes, "mean");
  int64_t count = 1;
  for (int ax : axes) count *= a.shape()[normalize_axis(ax, a.dim(), "mean")];
  const float inv = 1.0f / static_cast<float>(count);
  return make_result(dl::mean(a.value(), axes, keepdim), "mean", {a}, [kshape, inv](Node& n) {
    Tensor g = broadcast_to(n.grad.reshape(kshape), in(n, 0).value.shape());
    scale_(g, inv);
    accumulate_grad(in(n, 0), std::move(g));
  });
}

Var sum_all(const Var& a) {
  Tensor v(Shape{}, dl::sum_all(a.value()));
  return make_result(v, "sum_all", {a}, [](Node& n) {
    accumulate_grad(in(n, 0), Tensor(in(n, 0).value.shape(), n.grad[0]));
  });
}

Var mean_all(const Var& a) {
  check_shape(a.value().numel() > 0, "mean_all", "empty tensor");
  const float inv = 1.0f / static_cast<float>(a.value().numel());
  Tensor v(Shape{}, dl::sum_all(a.value()) * inv);
  return make_result(v, "mean_all", {a}, [inv](Node& n) {
    accumulate_grad(in(n, 0), Tensor(in(n, 0).value.shape(), n.grad[0] * inv));
  });
}

Var max(const Var& a, int axis, bool keepdim) {
  axis = normalize_axis(axis, a.dim(), "max");
  Tensor idx = dl::argmax(a.value(), axis, true);
  Tensor v = dl::gather(a.value(), axis, idx);
  Shape out_shape = v.shape();
  if (!keepdim) out_shape.erase(out_shape.begin() + axis);
  return make_result(v.reshape(out_shape), "max", {a}, [idx, axis](Node& n) {
    accumulate_grad(in(n, 0), dl::scatter_add(in(n, 0).value.shape(), axis, idx,
                                              n.grad.reshape(idx.shape())));
  });
}

}  // namespace dl::ag
