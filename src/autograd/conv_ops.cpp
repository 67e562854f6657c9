// conv2d and conv_transpose2d as forward/backward pairs over the kernels of
// src/tensor/conv.h. The transposed convolution ("deconvolution", used for upsampling
// in FCN and Mask R-CNN's mask head) is the adjoint of a convolution: its forward pass
// is a convolution's input gradient, and its input gradient is a convolution.
#include "autograd/ops.h"
#include "tensor/conv.h"

namespace dl::ag {

namespace {

Node& in(Node& n, int i) { return *n.inputs[i]; }

std::vector<Var> inputs_of(const Var& x, const Var& weight, const Var& bias, const char* op) {
  check_shape(x.defined() && weight.defined(), op, "undefined input or weight");
  std::vector<Var> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return inputs;
}

}  // namespace

Var conv2d(const Var& x, const Var& weight, const Var& bias, const Conv2dOptions& o) {
  const Conv2dParams& p = o;
  check_shape(o.output_pad_h == 0 && o.output_pad_w == 0, "conv2d",
              "output padding applies to conv_transpose2d only");
  std::vector<Var> inputs = inputs_of(x, weight, bias, "conv2d");
  Tensor y = conv2d_forward(x.value(), weight.value(),
                            bias.defined() ? bias.value() : Tensor(), p);
  const bool has_bias = bias.defined();
  return make_result(y, "conv2d", inputs, [p, has_bias](Node& n) {
    const Tensor& X = in(n, 0).value;
    const Tensor& W = in(n, 1).value;
    if (in(n, 0).requires_grad)
      accumulate_grad(in(n, 0), conv2d_backward_input(n.grad, W, X.shape(), p));
    if (in(n, 1).requires_grad)
      accumulate_grad(in(n, 1), conv2d_backward_weight(n.grad, X, W.shape(), p));
    if (has_bias && in(n, 2).requires_grad) accumulate_grad(in(n, 2), conv2d_backward_bias(n.grad));
  });
}

// x [N, Cin, H, W] with weight [Cin, Cout/groups, kh, kw] is the input gradient of the
// convolution from [N, Cout, OH, OW] to [N, Cin, H, W] with that same weight, where
//   OH = (H - 1) * stride - 2 * pad + dilation * (kh - 1) + output_pad + 1.
// output_pad picks one of the `stride` output sizes that all convolve down to H.
Var conv_transpose2d(const Var& x, const Var& weight, const Var& bias, const Conv2dOptions& o) {
  const Conv2dParams& p = o;
  std::vector<Var> inputs = inputs_of(x, weight, bias, "conv_transpose2d");
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  check_shape(xs.size() == 4 && ws.size() == 4, "conv_transpose2d",
              "needs x [N, Cin, H, W] and weight [Cin, Cout/groups, kh, kw], got " +
                  shape_str(xs) + " and " + shape_str(ws));
  check_shape(o.groups > 0 && xs[1] == ws[0], "conv_transpose2d",
              "input " + shape_str(xs) + " has " + std::to_string(xs[1]) + " channels, weight " +
                  shape_str(ws) + " expects " + std::to_string(ws[0]));
  check_shape(o.output_pad_h >= 0 && o.output_pad_w >= 0 &&
                  (o.output_pad_h < o.stride_h || o.output_pad_h < o.dilation_h) &&
                  (o.output_pad_w < o.stride_w || o.output_pad_w < o.dilation_w),
              "conv_transpose2d", "output padding must be smaller than stride or dilation");
  const Shape out_shape{
      xs[0], ws[1] * o.groups,
      (xs[2] - 1) * o.stride_h - 2 * o.pad_h + o.dilation_h * (ws[2] - 1) + o.output_pad_h + 1,
      (xs[3] - 1) * o.stride_w - 2 * o.pad_w + o.dilation_w * (ws[3] - 1) + o.output_pad_w + 1};
  check_shape(out_shape[2] > 0 && out_shape[3] > 0, "conv_transpose2d",
              "padding leaves an empty output for input " + shape_str(xs));
  Tensor y = conv2d_backward_input(x.value(), weight.value(), out_shape, p);
  const bool has_bias = bias.defined();
  if (has_bias) {
    check_shape(bias.dim() == 1 && bias.size(0) == out_shape[1], "conv_transpose2d",
                "bias " + bias.value().shape_str() + " does not match " +
                    std::to_string(out_shape[1]) + " output channels");
    const int64_t hw = out_shape[2] * out_shape[3];
    float* py = y.data();
    for (int64_t n = 0; n < out_shape[0]; ++n)
      for (int64_t k = 0; k < out_shape[1]; ++k)
        for (int64_t i = 0; i < hw; ++i) py[(n * out_shape[1] + k) * hw + i] += bias.value()[k];
  }
  return make_result(y, "conv_transpose2d", inputs, [p, has_bias](Node& n) {
    const Tensor& X = in(n, 0).value;
    const Tensor& W = in(n, 1).value;
    // The output gradient plays the convolution's input; x plays its output gradient.
    if (in(n, 0).requires_grad)
      accumulate_grad(in(n, 0), conv2d_forward(n.grad, W, Tensor(), p));
    if (in(n, 1).requires_grad)
      accumulate_grad(in(n, 1), conv2d_backward_weight(X, n.grad, W.shape(), p));
    if (has_bias && in(n, 2).requires_grad) accumulate_grad(in(n, 2), conv2d_backward_bias(n.grad));
  });
}

}  // namespace dl::ag
