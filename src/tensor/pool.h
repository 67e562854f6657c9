// 2-D pooling kernels on [N, C, H, W]: max pool (with the argmax the backward pass
// routes the gradient to), average pool and adaptive average pool, following
// PyTorch's exact window and divisor rules so its dumps compare 1:1.
//
// Output size: OH = floor((H + 2p - k) / s) + 1, or ceil(...) with ceil_mode, where a
// last window that would start in the right/bottom padding is dropped.
//
// pool.cpp is the fast path (OpenMP over the N*C planes, each plane independent);
// pool_reference.cpp has the plain definitions the tests use as the oracle.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace dl {

struct Pool2dParams {
  int kernel_h = 2, kernel_w = 2;
  int stride_h = 2, stride_w = 2;
  int pad_h = 0, pad_w = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pool: divide by the padded window size
};

struct PoolGeometry {
  int64_t N, C, H, W, OH, OW;
  Pool2dParams p;
};
PoolGeometry pool2d_geometry(const Shape& x, const Pool2dParams& p, const char* op);

// Max pool. argmax[i] is the flat index (iy * W + ix) within its input plane of the
// maximum that output element i took; the first maximum wins ties, as in PyTorch.
struct MaxPoolResult {
  Tensor y;
  std::vector<int64_t> argmax;
};
MaxPoolResult max_pool2d_forward(const Tensor& x, const Pool2dParams& p);
Tensor max_pool2d_backward(const Tensor& gy, const std::vector<int64_t>& argmax,
                           const Shape& x_shape);

Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d_backward(const Tensor& gy, const Shape& x_shape, const Pool2dParams& p);

// Output cell i averages input rows [floor(i*H/OH), ceil((i+1)*H/OH)), same for columns.
Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w);
Tensor adaptive_avg_pool2d_backward(const Tensor& gy, const Shape& x_shape);

// Max unpooling (Zeiler & Fergus 2014 "switches"; SegNet, Badrinarayanan et al. 2017
// §3): the inverse a max pool allows. Each value of x [N, C, h, w] goes back to the
// place its window's maximum came from -- indices[i] is the flat position iy * W + ix
// within its plane of [N, C, out_h, out_w], as max_pool2d_forward's argmax gives it --
// and every other output is 0. As torch.nn.functional.max_unpool2d, a later value
// written to the same place replaces an earlier one (only overlapping windows, kernel
// > stride, can do that). Throws ShapeError when indices does not match x or an index
// leaves the plane.
Tensor max_unpool2d_forward(const Tensor& x, const std::vector<int64_t>& indices, int64_t out_h,
                            int64_t out_w);
// Each input's gradient is the output gradient at the place it was put.
Tensor max_unpool2d_backward(const Tensor& gy, const std::vector<int64_t>& indices,
                             const Shape& x_shape);

// The plain definitions (pool_reference.cpp).
Tensor max_pool2d_reference(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d_reference(const Tensor& x, const Pool2dParams& p);
Tensor adaptive_avg_pool2d_reference(const Tensor& x, int64_t out_h, int64_t out_w);
Tensor max_unpool2d_reference(const Tensor& x, const std::vector<int64_t>& indices, int64_t out_h,
                              int64_t out_w);

}  // namespace dl
