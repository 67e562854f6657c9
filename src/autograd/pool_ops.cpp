// Pooling and bilinear upsampling as forward/backward pairs over src/tensor/pool.h and
// src/tensor/upsample.h. Max pooling keeps the argmax of its forward pass: the
// gradient flows only to the input that won each window.
#include <memory>

#include "autograd/ops.h"
#include "tensor/pool.h"
#include "tensor/upsample.h"

namespace dl::ag {

namespace {

Node& in(Node& n, int i) { return *n.inputs[i]; }

}  // namespace

Var max_pool2d(const Var& x, const Pool2dOptions& o) { return max_pool2d_with_switches(x, o).y; }

MaxPoolWithSwitches max_pool2d_with_switches(const Var& x, const Pool2dOptions& o) {
  MaxPoolResult r = max_pool2d_forward(x.value(), o);
  auto argmax = std::make_shared<std::vector<int64_t>>(std::move(r.argmax));
  Var y = make_result(r.y, "max_pool2d", {x}, [argmax](Node& n) {
    accumulate_grad(in(n, 0), max_pool2d_backward(n.grad, *argmax, in(n, 0).value.shape()));
  });
  return {y, argmax};
}

Var max_unpool2d(const Var& x, std::shared_ptr<const std::vector<int64_t>> idx, int out_h,
                 int out_w) {
  check_shape(idx != nullptr, "max_unpool2d", "no switches");
  return make_result(max_unpool2d_forward(x.value(), *idx, out_h, out_w), "max_unpool2d", {x},
                     [idx](Node& n) {
                       accumulate_grad(in(n, 0), max_unpool2d_backward(n.grad, *idx,
                                                                        in(n, 0).value.shape()));
                     });
}

Var avg_pool2d(const Var& x, const Pool2dOptions& o) {
  const Pool2dParams& p = o;
  return make_result(avg_pool2d_forward(x.value(), p), "avg_pool2d", {x}, [p](Node& n) {
    accumulate_grad(in(n, 0), avg_pool2d_backward(n.grad, in(n, 0).value.shape(), p));
  });
}

Var adaptive_avg_pool2d(const Var& x, int out_h, int out_w) {
  return make_result(adaptive_avg_pool2d_forward(x.value(), out_h, out_w),
                     "adaptive_avg_pool2d", {x}, [](Node& n) {
                       accumulate_grad(in(n, 0), adaptive_avg_pool2d_backward(
                                                     n.grad, in(n, 0).value.shape()));
                     });
}

Var upsample_bilinear2d(const Var& x, int out_h, int out_w, bool align_corners) {
  return make_result(upsample_bilinear2d_forward(x.value(), out_h, out_w, align_corners),
                     "upsample_bilinear2d", {x}, [align_corners](Node& n) {
                       accumulate_grad(in(n, 0),
                                       upsample_bilinear2d_backward(
                                           n.grad, in(n, 0).value.shape(), align_corners));
                     });
}

}  // namespace dl::ag
