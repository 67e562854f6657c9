// Bilinear resizing (see upsample.h). The interpolation taps of each output row and
// column are computed once, then every (n, c) plane is resized independently, so
// OpenMP over planes is deterministic for forward and backward alike.
#include "tensor/upsample.h"

#include <vector>

namespace dl {

namespace {

// Output index o reads input indices i0 and i1 = min(i0 + 1, in - 1) with weights
// w0 and w1 = 1 - w0.
struct Tap {
  int64_t i0, i1;
  float w0, w1;
};

std::vector<Tap> taps(int64_t in, int64_t out, bool align_corners) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const float scale = align_corners ? (out > 1 ? static_cast<float>(in - 1) / (out - 1) : 0.0f)
                                    : static_cast<float>(in) / out;
  for (int64_t o = 0; o < out; ++o) {
    float src = align_corners ? scale * o : scale * (o + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    const int64_t i0 = static_cast<int64_t>(src);
    const int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
    const float f = src - static_cast<float>(i0);
    t[o] = {i0, i1, 1.0f - f, f};
  }
  return t;
}

void check(const Shape& x, int64_t out_h, int64_t out_w, const char* op) {
  check_shape(x.size() == 4, op, "input must be [N, C, H, W], got " + shape_str(x));
  check_shape(x[2] > 0 && x[3] > 0 && out_h > 0 && out_w > 0, op,
              "input and output sizes must be positive, input " + shape_str(x) + ", output " +
                  std::to_string(out_h) + "x" + std::to_string(out_w));
}

constexpr int64_t kParallelMin = 1 << 15;

}  // namespace

Tensor upsample_bilinear2d_forward(const Tensor& x, int64_t out_h, int64_t out_w,
                                   bool align_corners) {
  check(x.shape(), out_h, out_w, "upsample_bilinear2d");
  const int64_t H = x.size(2), W = x.size(3), planes = x.size(0) * x.size(1);
  const std::vector<Tap> ty = taps(H, out_h, align_corners), tx = taps(W, out_w, align_corners);
  Tensor y({x.size(0), x.size(1), out_h, out_w});
  const float* px = x.data();
  float* py = y.data();
#pragma omp parallel for schedule(static) if (y.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* in = px + pl * H * W;
    float* out = py + pl * out_h * out_w;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const Tap& a = ty[oy];
      const float* r0 = in + a.i0 * W;
      const float* r1 = in + a.i1 * W;
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const Tap& b = tx[ox];
        out[oy * out_w + ox] = a.w0 * (b.w0 * r0[b.i0] + b.w1 * r0[b.i1]) +
                               a.w1 * (b.w0 * r1[b.i0] + b.w1 * r1[b.i1]);
      }
    }
  }
  return y;
}

Tensor upsample_bilinear2d_backward(const Tensor& gy, const Shape& x_shape, bool align_corners) {
  check(x_shape, gy.dim() == 4 ? gy.size(2) : 0, gy.dim() == 4 ? gy.size(3) : 0,
        "upsample_bilinear2d_backward");
  check_shape(gy.size(0) == x_shape[0] && gy.size(1) == x_shape[1],
              "upsample_bilinear2d_backward",
              "gradient " + gy.shape_str() + " does not match input " + shape_str(x_shape));
  const int64_t H = x_shape[2], W = x_shape[3], planes = x_shape[0] * x_shape[1];
  const int64_t out_h = gy.size(2), out_w = gy.size(3);
  const std::vector<Tap> ty = taps(H, out_h, align_corners), tx = taps(W, out_w, align_corners);
  Tensor dx(x_shape);
  const float* pg = gy.data();
  float* pd = dx.data();
#pragma omp parallel for schedule(static) if (gy.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* g = pg + pl * out_h * out_w;
    float* d = pd + pl * H * W;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const Tap& a = ty[oy];
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const Tap& b = tx[ox];
        const float v = g[oy * out_w + ox];
        d[a.i0 * W + b.i0] += a.w0 * b.w0 * v;
        d[a.i0 * W + b.i1] += a.w0 * b.w1 * v;
        d[a.i1 * W + b.i0] += a.w1 * b.w0 * v;
        d[a.i1 * W + b.i1] += a.w1 * b.w1 * v;
      }
    }
  }
  return dx;
}

}  // namespace dl
