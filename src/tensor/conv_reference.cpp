// The definition of convolution as six nested loops (see conv.h for the formula).
// Slow and obviously right: the tests compare the fast path of conv.cpp to these.
#include <vector>

#include "tensor/conv.h"

namespace dl {

namespace {

// Input row/column read by output position o at kernel tap t, or -1 when it falls in
// the zero padding.
int64_t source(int64_t o, int64_t t, int stride, int pad, int dilation, int64_t size) {
  const int64_t i = o * stride - pad + t * dilation;
  return (i >= 0 && i < size) ? i : -1;
}

}  // namespace

Tensor conv2d_forward_reference(const Tensor& x, const Tensor& w, const Tensor& b,
                                const Conv2dParams& p) {
  const ConvGeometry g = conv2d_geometry(x.shape(), w.shape(), p, "conv2d_reference");
  Tensor y({g.N, g.K, g.OH, g.OW});
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t k = 0; k < g.K; ++k)
      for (int64_t oy = 0; oy < g.OH; ++oy)
        for (int64_t ox = 0; ox < g.OW; ++ox) {
          double acc = b.defined() ? b[k] : 0.0;
          const int64_t c0 = (k / g.Kg()) * g.Cg();
          for (int64_t c = 0; c < g.Cg(); ++c)
            for (int64_t i = 0; i < g.kh; ++i)
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t iy = source(oy, i, p.stride_h, p.pad_h, p.dilation_h, g.H);
                const int64_t ix = source(ox, j, p.stride_w, p.pad_w, p.dilation_w, g.W);
                if (iy < 0 || ix < 0) continue;
                acc += static_cast<double>(w.at({k, c, i, j})) * x.at({n, c0 + c, iy, ix});
              }
          y.at({n, k, oy, ox}) = static_cast<float>(acc);
        }
  return y;
}

Tensor conv2d_backward_input_reference(const Tensor& gy, const Tensor& w, const Shape& x_shape,
                                       const Conv2dParams& p) {
  const ConvGeometry g = conv2d_geometry(x_shape, w.shape(), p, "conv2d_backward_input_reference");
  std::vector<double> acc(static_cast<size_t>(shape_numel(x_shape)), 0.0);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t k = 0; k < g.K; ++k)
      for (int64_t oy = 0; oy < g.OH; ++oy)
        for (int64_t ox = 0; ox < g.OW; ++ox) {
          const double d = gy.at({n, k, oy, ox});
          const int64_t c0 = (k / g.Kg()) * g.Cg();
          for (int64_t c = 0; c < g.Cg(); ++c)
            for (int64_t i = 0; i < g.kh; ++i)
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t iy = source(oy, i, p.stride_h, p.pad_h, p.dilation_h, g.H);
                const int64_t ix = source(ox, j, p.stride_w, p.pad_w, p.dilation_w, g.W);
                if (iy < 0 || ix < 0) continue;
                acc[((n * g.C + c0 + c) * g.H + iy) * g.W + ix] += d * w.at({k, c, i, j});
              }
        }
  Tensor dx(x_shape);
  for (int64_t i = 0; i < dx.numel(); ++i) dx[i] = static_cast<float>(acc[i]);
  return dx;
}

Tensor conv2d_backward_weight_reference(const Tensor& gy, const Tensor& x, const Shape& w_shape,
                                        const Conv2dParams& p) {
  const ConvGeometry g = conv2d_geometry(x.shape(), w_shape, p, "conv2d_backward_weight_reference");
  Tensor dw(w_shape);
  for (int64_t k = 0; k < g.K; ++k)
    for (int64_t c = 0; c < g.Cg(); ++c)
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
          double acc = 0.0;
          const int64_t c0 = (k / g.Kg()) * g.Cg();
          for (int64_t n = 0; n < g.N; ++n)
            for (int64_t oy = 0; oy < g.OH; ++oy)
              for (int64_t ox = 0; ox < g.OW; ++ox) {
                const int64_t iy = source(oy, i, p.stride_h, p.pad_h, p.dilation_h, g.H);
                const int64_t ix = source(ox, j, p.stride_w, p.pad_w, p.dilation_w, g.W);
                if (iy < 0 || ix < 0) continue;
                acc += static_cast<double>(gy.at({n, k, oy, ox})) * x.at({n, c0 + c, iy, ix});
              }
          dw.at({k, c, i, j}) = static_cast<float>(acc);
        }
  return dw;
}

}  // namespace dl
