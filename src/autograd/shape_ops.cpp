// Shape ops move elements around without changing them, so each backward moves the
// gradient back to where its element came from: reshape back, permute by the inverse
// permutation, scatter a slice into zeros, split a concatenation.
#include "autograd/ops.h"

namespace dl::ag {

namespace {

Node& in(Node& n, int i) { return *n.inputs[i]; }

// The indices start, start+step, ... < end as a float index tensor (for index_add).
Tensor range_index(int64_t start, int64_t end, int64_t step) {
  Tensor idx({end > start ? (end - start + step - 1) / step : 0});
  for (int64_t k = 0; k < idx.numel(); ++k) idx[k] = static_cast<float>(start + k * step);
  return idx;
}

}  // namespace

Var reshape(const Var& a, const Shape& s) {
  // A view: the value shares storage with a's value, as torch.reshape does.
  return make_result(a.value().reshape(s), "reshape", {a}, [](Node& n) {
    accumulate_grad(in(n, 0), n.grad.reshape(in(n, 0).value.shape()));
  });
}

Var flatten(const Var& a, int start_axis) {
  const int ax = normalize_axis(start_axis, a.dim(), "flatten");
  Shape s(a.shape().begin(), a.shape().begin() + ax);
  int64_t rest = 1;
  for (int i = ax; i < a.dim(); ++i) rest *= a.shape()[i];
  s.push_back(rest);
  return reshape(a, s);
}

Var permute(const Var& a, const std::vector<int>& perm) {
  Tensor v = dl::permute(a.value(), perm);  // validates perm
  std::vector<int> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[normalize_axis(perm[i], a.dim(), "permute")] = static_cast<int>(i);
  return make_result(v, "permute", {a}, [inverse](Node& n) {
    accumulate_grad(in(n, 0), dl::permute(n.grad, inverse));
  });
}

Var transpose(const Var& a, int ax0, int ax1) {
  return make_result(dl::transpose(a.value(), ax0, ax1), "transpose", {a}, [ax0, ax1](Node& n) {
    accumulate_grad(in(n, 0), dl::transpose(n.grad, ax0, ax1));
  });
}

Var slice(const Var& a, int axis, int64_t start, int64_t end, int64_t step) {
  Tensor v = dl::slice(a.value(), axis, start, end, step);  // validates the range
  const int ax = normalize_axis(axis, a.dim(), "slice");
  Tensor idx = range_index(start, end, step);
  return make_result(v, "slice", {a}, [ax, idx](Node& n) {
    accumulate_grad(in(n, 0), dl::index_add(in(n, 0).value.shape(), ax, idx, n.grad));
  });
}

Var concat(const std::vector<Var>& xs, int axis) {
  check_shape(!xs.empty(), "concat", "needs at least one tensor");
  std::vector<Tensor> vals;
  for (const Var& x : xs) {
    check_shape(x.defined(), "concat", "undefined input");
    vals.push_back(x.value());
  }
  Tensor v = dl::concat(vals, axis);
  const int ax = normalize_axis(axis, xs[0].dim(), "concat");
  return make_result(v, "concat", xs, [ax](Node& n) {
    int64_t at = 0;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const int64_t len = n.inputs[i]->value.shape()[ax];
      if (n.inputs[i]->requires_grad)
        accumulate_grad(*n.inputs[i], dl::slice(n.grad, ax, at, at + len));
      at += len;
    }
  });
}

Var stack(const std::vector<Var>& xs, int axis) {
  check_shape(!xs.empty(), "stack", "needs at least one tensor");
  std::vector<Tensor> vals;
  for (const Var& x : xs) {
    check_shape(x.defined(), "stack", "undefined input");
    vals.push_back(x.value());
  }
  Tensor v = dl::stack(vals, axis);
  const int ax = normalize_axis(axis, xs[0].dim() + 1, "stack");
  return make_result(v, "stack", xs, [ax](Node& n) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (!n.inputs[i]->requires_grad) continue;
      const int64_t k = static_cast<int64_t>(i);
      accumulate_grad(*n.inputs[i],
                      dl::slice(n.grad, ax, k, k + 1).reshape(n.inputs[i]->value.shape()));
    }
  });
}

Var index_select(const Var& a, int axis, const Tensor& index) {
  Tensor v = dl::index_select(a.value(), axis, index);
  const int ax = normalize_axis(axis, a.dim(), "index_select");
  // Repeated indices each send their gradient back: index_add sums them.
  return make_result(v, "index_select", {a}, [ax, index](Node& n) {
    accumulate_grad(in(n, 0), dl::index_add(in(n, 0).value.shape(), ax, index, n.grad));
  });
}

Var gather(const Var& a, int axis, const Tensor& index) {
  Tensor v = dl::gather(a.value(), axis, index);
  const int ax = normalize_axis(axis, a.dim(), "gather");
  return make_result(v, "gather", {a}, [ax, index](Node& n) {
    accumulate_grad(in(n, 0), dl::scatter_add(in(n, 0).value.shape(), ax, index, n.grad));
  });
}

Var pad2d(const Var& a, int top, int bottom, int left, int right, float value) {
  Tensor v = dl::pad2d(a.value(), top, bottom, left, right, value);
  return make_result(v, "pad2d", {a}, [top, left](Node& n) {
    const Shape& s = in(n, 0).value.shape();
    const int nd = static_cast<int>(s.size());
    const int64_t H = s[nd - 2], W = s[nd - 1];
    // The padded border is a constant: only the interior gets gradient.
    Tensor g = dl::slice(n.grad, nd - 2, top, top + H);
    accumulate_grad(in(n, 0), dl::slice(g, nd - 1, left, left + W));
  });
}

}  // namespace dl::ag
