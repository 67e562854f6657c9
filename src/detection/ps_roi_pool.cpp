// Position-sensitive RoI pooling, forward and backward (see ps_roi_pool.h).
#include "detection/ps_roi_pool.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "detection/roi_pool.h"

namespace dl {

namespace {

void check_args(const Shape& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                float spatial_scale, const char* op) {
  check_shape(x.size() == 4, op, "x must be [N, C, H, W], got " + shape_str(x));
  check_shape(out_h > 0 && out_w > 0, op,
              "output size must be positive, got " + std::to_string(out_h) + "x" +
                  std::to_string(out_w));
  check_shape(x[1] % (out_h * out_w) == 0, op,
              "input channels " + std::to_string(x[1]) + " are not a multiple of out_h * out_w = " +
                  std::to_string(out_h * out_w));
  check_shape(std::isfinite(spatial_scale) && spatial_scale > 0, op,
              "spatial_scale must be positive and finite");
  check_rois(rois, x[0], op);
}

// Bin (i, j) of RoI r as a clipped cell rectangle [y_lo, y_hi) x [x_lo, x_hi).
struct Bin {
  int64_t y_lo, y_hi, x_lo, x_hi;
  bool empty() const { return y_hi <= y_lo || x_hi <= x_lo; }
  float area() const { return static_cast<float>((y_hi - y_lo) * (x_hi - x_lo)); }
};

Bin bin_of(const float* r, float scale, int64_t i, int64_t j, int64_t out_h, int64_t out_w,
           int64_t H, int64_t W) {
  const int64_t x0 = static_cast<int64_t>(std::round(r[1] * scale));
  const int64_t y0 = static_cast<int64_t>(std::round(r[2] * scale));
  const int64_t x1 = static_cast<int64_t>(std::round(r[3] * scale));
  const int64_t y1 = static_cast<int64_t>(std::round(r[4] * scale));
  // Unlike roi_pool, torchvision's R-FCN port counts x2 - x1 cells (no +1).
  const float bin_h = static_cast<float>(std::max<int64_t>(y1 - y0, 1)) / static_cast<float>(out_h);
  const float bin_w = static_cast<float>(std::max<int64_t>(x1 - x0, 1)) / static_cast<float>(out_w);
  auto clip = [](int64_t v, int64_t size) { return std::min(std::max<int64_t>(v, 0), size); };
  Bin b;
  b.y_lo = clip(static_cast<int64_t>(std::floor(static_cast<float>(i) * bin_h)) + y0, H);
  b.y_hi = clip(static_cast<int64_t>(std::ceil(static_cast<float>(i + 1) * bin_h)) + y0, H);
  b.x_lo = clip(static_cast<int64_t>(std::floor(static_cast<float>(j) * bin_w)) + x0, W);
  b.x_hi = clip(static_cast<int64_t>(std::ceil(static_cast<float>(j + 1) * bin_w)) + x0, W);
  return b;
}

}  // namespace

Tensor ps_roi_pool_forward(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                           float spatial_scale) {
  check_args(x.shape(), rois, out_h, out_w, spatial_scale, "ps_roi_pool");
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3), K = rois.size(0);
  const int64_t C_out = C / (out_h * out_w);
  Tensor y({K, C_out, out_h, out_w});
  const float* px = x.data();
  const float* pr = rois.data();
  float* py = y.data();
#pragma omp parallel for schedule(static)
  for (int64_t kc = 0; kc < K * C_out; ++kc) {
    const int64_t k = kc / C_out, c = kc % C_out;
    const float* r = pr + k * 5;
    const int64_t batch = static_cast<int64_t>(r[0]);
    for (int64_t i = 0; i < out_h; ++i)
      for (int64_t j = 0; j < out_w; ++j) {
        const Bin b = bin_of(r, spatial_scale, i, j, out_h, out_w, H, W);
        const float* plane = px + (batch * C + (c * out_h + i) * out_w + j) * H * W;
        float sum = 0.0f;
        for (int64_t yy = b.y_lo; yy < b.y_hi; ++yy)
          for (int64_t xx = b.x_lo; xx < b.x_hi; ++xx) sum += plane[yy * W + xx];
        py[(kc * out_h + i) * out_w + j] = b.empty() ? 0.0f : sum / b.area();
      }
  }
  return y;
}

Tensor ps_roi_pool_backward(const Tensor& gy, const Tensor& rois, const Shape& x_shape,
                            float spatial_scale) {
  check_shape(gy.dim() == 4, "ps_roi_pool_backward", "grad must be 4-D, got " + gy.shape_str());
  const int64_t out_h = gy.size(2), out_w = gy.size(3);
  check_args(x_shape, rois, out_h, out_w, spatial_scale, "ps_roi_pool_backward");
  const int64_t C = x_shape[1], H = x_shape[2], W = x_shape[3], K = rois.size(0);
  const int64_t C_out = C / (out_h * out_w);
  check_shape(gy.size(0) == K && gy.size(1) == C_out, "ps_roi_pool_backward",
              "grad " + gy.shape_str() + " does not match x " + shape_str(x_shape) + " and " +
                  std::to_string(K) + " rois");
  Tensor gx(x_shape);
  const float* pg = gy.data();
  const float* pr = rois.data();
  float* px = gx.data();
  // Each input channel belongs to one (c, i, j): threads own input channels and walk
  // the RoIs in order, so every gradient cell has one writer and a fixed order.
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < C; ++ch) {
    const int64_t c = ch / (out_h * out_w), i = (ch / out_w) % out_h, j = ch % out_w;
    for (int64_t k = 0; k < K; ++k) {
      const float* r = pr + k * 5;
      const Bin b = bin_of(r, spatial_scale, i, j, out_h, out_w, H, W);
      if (b.empty()) continue;
      float* plane = px + (static_cast<int64_t>(r[0]) * C + ch) * H * W;
      const float g = pg[((k * C_out + c) * out_h + i) * out_w + j] / b.area();
      for (int64_t yy = b.y_lo; yy < b.y_hi; ++yy)
        for (int64_t xx = b.x_lo; xx < b.x_hi; ++xx) plane[yy * W + xx] += g;
    }
  }
  return gx;
}

namespace ag {

Var ps_roi_pool(const Var& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                float spatial_scale) {
  return make_result(ps_roi_pool_forward(x.value(), rois, out_h, out_w, spatial_scale),
                     "ps_roi_pool", {x}, [rois, spatial_scale](Node& n) {
                       accumulate_grad(*n.inputs[0],
                                       ps_roi_pool_backward(n.grad, rois,
                                                            n.inputs[0]->value.shape(),
                                                            spatial_scale));
                     });
}

}  // namespace ag

}  // namespace dl
