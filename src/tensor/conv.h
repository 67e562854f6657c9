// 2-D convolution kernels (cross-correlation, as every deep-learning library defines
// it) with stride, zero padding, dilation and groups; groups == channels is the
// depthwise convolution of MobileNet.
//
//   y[n, k, oy, ox] = b[k] + sum_{c, i, j} w[k, c, i, j] * x[n, g*Cg + c, oy*s - p + i*d, ox*s - p + j*d]
//
// where g = k / Kg is the group of output channel k, Cg = C / groups, Kg = K / groups.
// Out-of-image reads are zero. Output size: OH = (H + 2p - d(kh - 1) - 1) / s + 1.
//
// The three kernels below are the forward pass and the two backward passes (to the
// input and to the weight). The transposed convolution reuses them: its forward is
// conv2d_backward_input and its input gradient is conv2d_forward.
//
// conv.cpp is the fast path (im2col + the packed GEMM); conv_reference.cpp is the
// direct six-loop definition used by the tests as the oracle.
#pragma once
#include "tensor/tensor.h"

namespace dl {

struct Conv2dParams {
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
};

// Every size of one convolution, checked once. Throws ShapeError naming `op`.
struct ConvGeometry {
  int64_t N, C, H, W;        // input
  int64_t K, kh, kw;         // weight [K, C/groups, kh, kw]
  int64_t OH, OW;            // output
  Conv2dParams p;
  int64_t Cg() const { return C / p.groups; }
  int64_t Kg() const { return K / p.groups; }
};
ConvGeometry conv2d_geometry(const Shape& x, const Shape& w, const Conv2dParams& p,
                             const char* op);

// x [N, C, H, W], w [K, C/groups, kh, kw], b [K] or undefined -> y [N, K, OH, OW].
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p);
// dL/dx from dL/dy [N, K, OH, OW]; x_shape fixes H and W (several H map to one OH).
Tensor conv2d_backward_input(const Tensor& gy, const Tensor& w, const Shape& x_shape,
                             const Conv2dParams& p);
// dL/dw [K, C/groups, kh, kw] from dL/dy and the forward input x.
Tensor conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Shape& w_shape,
                              const Conv2dParams& p);
// dL/db [K]: the sum of dL/dy over batch and positions.
Tensor conv2d_backward_bias(const Tensor& gy);

// The plain definitions (conv_reference.cpp), double accumulators.
Tensor conv2d_forward_reference(const Tensor& x, const Tensor& w, const Tensor& b,
                                const Conv2dParams& p);
Tensor conv2d_backward_input_reference(const Tensor& gy, const Tensor& w, const Shape& x_shape,
                                       const Conv2dParams& p);
Tensor conv2d_backward_weight_reference(const Tensor& gy, const Tensor& x, const Shape& w_shape,
                                        const Conv2dParams& p);

}  // namespace dl
