// Matrix products. For C = op(A) op(B) the gradients are dop(A) = dC op(B)^T and
// dop(B) = op(A)^T dC; the trans flags of matmul() express every transpose, so no
// transposed copy is ever made for the 2-d case.
#include "autograd/ops.h"

namespace dl::ag {

namespace {
Node& in(Node& n, int i) { return *n.inputs[i]; }
}  // namespace

Var matmul(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  Tensor v = dl::matmul(a.value(), b.value(), trans_a, trans_b);
  return make_result(v, "matmul", {a, b}, [trans_a, trans_b](Node& n) {
    const Tensor& A = in(n, 0).value;
    const Tensor& B = in(n, 1).value;
    if (in(n, 0).requires_grad) {
      // A stored as op(A) ([M,K]): dA = dC op(B)^T.  Stored as A^T ([K,M]): dA = op(B) dC^T.
      accumulate_grad(in(n, 0), trans_a ? dl::matmul(B, n.grad, trans_b, true)
                                        : dl::matmul(n.grad, B, false, !trans_b));
    }
    if (in(n, 1).requires_grad) {
      // B stored as op(B) ([K,N]): dB = op(A)^T dC.  Stored as B^T ([N,K]): dB = dC^T op(A).
      accumulate_grad(in(n, 1), trans_b ? dl::matmul(n.grad, A, true, trans_a)
                                        : dl::matmul(A, n.grad, !trans_a, false));
    }
  });
}

Var bmm(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  Tensor v = dl::bmm(a.value(), b.value(), trans_a, trans_b);
  return make_result(v, "bmm", {a, b}, [trans_a, trans_b](Node& n) {
    const Tensor& A = in(n, 0).value;
    const Tensor& B = in(n, 1).value;
    if (in(n, 0).requires_grad) {
      Tensor g = dl::bmm(n.grad, B, false, !trans_b);  // d op(A) = dC op(B)^T, [Bt,M,K]
      accumulate_grad(in(n, 0), trans_a ? dl::transpose(g, 1, 2) : g);
    }
    if (in(n, 1).requires_grad) {
      Tensor g = trans_b ? dl::bmm(n.grad, A, true, trans_a)     // [Bt,N,K]
                         : dl::bmm(A, n.grad, !trans_a, false);  // [Bt,K,N]
      // A [K,N] matrix shared by every batch gets the sum of their gradients.
      accumulate_grad(in(n, 1), B.dim() == 2 ? dl::sum(g, {0}) : g);
    }
  });
}

Var linear(const Var& x, const Var& weight, const Var& bias) {
  check_shape(x.defined() && weight.defined(), "linear", "undefined input or weight");
  check_shape(x.dim() == 2 && weight.dim() == 2, "linear",
              "needs x [N, in] and weight [out, in], got " + x.value().shape_str() + " and " +
                  weight.value().shape_str());
  check_shape(x.size(1) == weight.size(1), "linear",
              "x " + x.value().shape_str() + " has " + std::to_string(x.size(1)) +
                  " features but weight " + weight.value().shape_str() + " expects " +
                  std::to_string(weight.size(1)));
  const bool has_bias = bias.defined();
  if (has_bias)
    check_shape(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear",
                "bias " + bias.value().shape_str() + " does not match weight " +
                    weight.value().shape_str());
  Tensor y = dl::matmul(x.value(), weight.value(), false, true);  // x W^T
  if (has_bias) {
    const int64_t N = y.size(0), O = y.size(1);
    const float* pb = bias.value().data();
    float* py = y.data();
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < O; ++j) py[i * O + j] += pb[j];
  }
  std::vector<Var> inputs{x, weight};
  if (has_bias) inputs.push_back(bias);
  return make_result(y, "linear", inputs, [has_bias](Node& n) {
    const Tensor& X = in(n, 0).value;
    const Tensor& W = in(n, 1).value;
    if (in(n, 0).requires_grad) accumulate_grad(in(n, 0), dl::matmul(n.grad, W));  // dY W
    if (in(n, 1).requires_grad)
      accumulate_grad(in(n, 1), dl::matmul(n.grad, X, true, false));  // dY^T X
    if (has_bias && in(n, 2).requires_grad) accumulate_grad(in(n, 2), dl::sum(n.grad, {0}));
  });
}

}  // namespace dl::ag
