// Every differentiable op detlab has. Each is a forward/backward pair written in
// one place (the .cpp named in the section header); the backward uses the tensor
// kernels of src/tensor/. Naming follows PyTorch so the golden tests read 1:1.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "autograd/variable.h"
#include "tensor/conv.h"
#include "tensor/pool.h"
#include "tensor/rng.h"

namespace dl::ag {

enum class Reduction { None, Mean, Sum };

// ---- elementwise_ops.cpp ----------------------------------------------------------
Var add(const Var& a, const Var& b);            // broadcasting
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var add(const Var& a, float s);
Var mul(const Var& a, float s);
Var neg(const Var& a);
Var exp(const Var& a);
Var log(const Var& a);
Var sqrt(const Var& a);
Var pow(const Var& a, float p);
Var clamp(const Var& a, float lo, float hi);    // gradient 0 outside [lo, hi]
Var abs(const Var& a);

// ---- reduce_ops.cpp ------------------------------------------------------------------
Var sum(const Var& a, const std::vector<int>& axes, bool keepdim = false);
Var mean(const Var& a, const std::vector<int>& axes, bool keepdim = false);
Var sum_all(const Var& a);                      // 0-d result (shape {})
Var mean_all(const Var& a);
Var max(const Var& a, int axis, bool keepdim = false);  // gradient to the first maximum

// ---- shape_ops.cpp -------------------------------------------------------------------
Var reshape(const Var& a, const Shape& s);
Var flatten(const Var& a, int start_axis = 1);  // [N, ...] -> [N, prod(...)]
Var permute(const Var& a, const std::vector<int>& perm);
Var transpose(const Var& a, int ax0, int ax1);
Var slice(const Var& a, int axis, int64_t start, int64_t end, int64_t step = 1);
Var concat(const std::vector<Var>& xs, int axis);
Var stack(const std::vector<Var>& xs, int axis);
Var index_select(const Var& a, int axis, const Tensor& index);
Var gather(const Var& a, int axis, const Tensor& index);
Var pad2d(const Var& a, int top, int bottom, int left, int right, float value = 0.0f);

// ---- linear_ops.cpp ------------------------------------------------------------------
Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);
Var bmm(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);
// x [N, in], weight [out, in] (PyTorch's layout), bias [out] or undefined.
Var linear(const Var& x, const Var& weight, const Var& bias);

// ---- activation_ops.cpp --------------------------------------------------------------
Var relu(const Var& a);
Var leaky_relu(const Var& a, float negative_slope = 0.01f);
// min(max(x, 0), 6): MobileNet's activation (Howard et al. 2017, sec. 3.2), bounded so
// low-precision arithmetic keeps its range; gradient 1 on (0, 6), else 0.
Var relu6(const Var& a);
Var sigmoid(const Var& a);
Var tanh(const Var& a);
Var softmax(const Var& a, int axis);
Var log_softmax(const Var& a, int axis);
// Inverted dropout: zeroes with probability p and scales kept values by 1/(1-p)
// while training; identity otherwise. Draws from rng sequentially.
Var dropout(const Var& a, float p, bool training, Rng& rng);

// ---- loss_ops.cpp ---------------------------------------------------------------------
// logits [N, C] or [N, C, d1, ...]; target holds class indices ([N] or [N, d1, ...]).
// weight (optional, [C]) and ignore_index follow torch.nn.functional.cross_entropy,
// including its weighted mean (divides by the sum of the targets' weights).
Var cross_entropy(const Var& logits, const Tensor& target, const Tensor& weight = Tensor(),
                  int ignore_index = -100, Reduction reduction = Reduction::Mean);
Var binary_cross_entropy_with_logits(const Var& logits, const Tensor& target,
                                     const Tensor& weight = Tensor(),
                                     Reduction reduction = Reduction::Mean);
// Huber-style smooth L1 (Fast R-CNN, Girshick 2015, eq. 3) with PyTorch's beta.
Var smooth_l1(const Var& pred, const Tensor& target, float beta = 1.0f,
              Reduction reduction = Reduction::Mean);
Var mse(const Var& pred, const Tensor& target, Reduction reduction = Reduction::Mean);

// ---- conv_ops.cpp ----------------------------------------------------------------------
// The kernels' parameters (tensor/conv.h), plus the transposed convolution's output padding.
struct Conv2dOptions : Conv2dParams {
  int output_pad_h = 0, output_pad_w = 0;   // conv_transpose2d only
};
// x [N, Cin, H, W], weight [Cout, Cin/groups, kh, kw], bias [Cout] or undefined.
Var conv2d(const Var& x, const Var& weight, const Var& bias, const Conv2dOptions& o = {});
// weight [Cin, Cout/groups, kh, kw] (PyTorch's layout for the transposed conv).
Var conv_transpose2d(const Var& x, const Var& weight, const Var& bias,
                     const Conv2dOptions& o = {});

// ---- pool_ops.cpp ----------------------------------------------------------------------
using Pool2dOptions = Pool2dParams;  // tensor/pool.h: kernel, stride (PyTorch's default: the kernel), pad, ...
Var max_pool2d(const Var& x, const Pool2dOptions& o);
// The same max pool, also returning its switches (where each window's maximum was:
// tensor/pool.h's argmax), for max_unpool2d to put values back there.
struct MaxPoolWithSwitches {
  Var y;
  std::shared_ptr<const std::vector<int64_t>> switches;
};
MaxPoolWithSwitches max_pool2d_with_switches(const Var& x, const Pool2dOptions& o);
// Max unpooling [N, C, h, w] -> [N, C, out_h, out_w]: each value to its switch, 0
// elsewhere (tensor/pool.h: max_unpool2d_forward).
Var max_unpool2d(const Var& x, std::shared_ptr<const std::vector<int64_t>> switches, int out_h,
                 int out_w);
Var avg_pool2d(const Var& x, const Pool2dOptions& o);
Var adaptive_avg_pool2d(const Var& x, int out_h, int out_w);
// Bilinear resize of [N, C, H, W] to [N, C, out_h, out_w]; align_corners as in
// torch.nn.functional.interpolate.
Var upsample_bilinear2d(const Var& x, int out_h, int out_w, bool align_corners = false);

// ---- norm_ops.cpp -----------------------------------------------------------------------
// Batch normalisation (Ioffe & Szegedy 2015) over axis 1 of [N, C] or [N, C, H, W].
// Training: normalises with the batch's biased variance and updates running_mean /
// running_var in place with the unbiased one (PyTorch's convention); eval: uses them.
Var batch_norm(const Var& x, const Var& gamma, const Var& beta, Tensor& running_mean,
               Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f);

}  // namespace dl::ag
