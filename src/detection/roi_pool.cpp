// RoI max pooling, forward and backward (see roi_pool.h for the exact rules).
#include "detection/roi_pool.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <memory>

#include "autograd/ops.h"

namespace dl {

void check_rois(const Tensor& rois, int64_t n_images, const char* op) {
  check_shape(rois.dim() == 2 && rois.size(1) == 5, op,
              "rois must be [K, 5] (batch index, x1, y1, x2, y2), got " + rois.shape_str());
  for (int64_t k = 0; k < rois.size(0); ++k) {
    const float* r = rois.data() + k * 5;
    const float b = r[0];
    check_shape(std::isfinite(b) && b == std::floor(b) && b >= 0 && b < float(n_images), op,
                "roi " + std::to_string(k) + " has batch index " + std::to_string(b) +
                    ", not an integer in [0, " + std::to_string(n_images) + ")");
    for (int i = 1; i < 5; ++i)
      check_shape(std::isfinite(r[i]), op, "roi " + std::to_string(k) + " has a non-finite corner");
  }
}

namespace {

void check_args(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                float spatial_scale) {
  check_shape(x.dim() == 4, "roi_pool", "x must be [N, C, H, W], got " + x.shape_str());
  check_shape(out_h > 0 && out_w > 0, "roi_pool",
              "output size must be positive, got " + std::to_string(out_h) + "x" +
                  std::to_string(out_w));
  check_shape(std::isfinite(spatial_scale) && spatial_scale > 0, "roi_pool",
              "spatial_scale must be positive and finite");
  check_rois(rois, x.size(0), "roi_pool");
}

// The RoI's cell range on the map: start corner and size, both in whole cells.
struct QuantisedRoi {
  int64_t batch, x0, y0, w, h;
};

QuantisedRoi quantise(const float* r, float scale) {
  // float products and std::round (half away from zero), as torchvision computes them.
  const int64_t x0 = static_cast<int64_t>(std::round(r[1] * scale));
  const int64_t y0 = static_cast<int64_t>(std::round(r[2] * scale));
  const int64_t x1 = static_cast<int64_t>(std::round(r[3] * scale));
  const int64_t y1 = static_cast<int64_t>(std::round(r[4] * scale));
  return {static_cast<int64_t>(r[0]), x0, y0, std::max<int64_t>(x1 - x0 + 1, 1),
          std::max<int64_t>(y1 - y0 + 1, 1)};
}

// Bin i of n over a RoI of `len` cells starting at `start`, clipped to [0, size).
void bin_range(int64_t i, int64_t n, int64_t start, int64_t len, int64_t size, int64_t& lo,
               int64_t& hi) {
  const float bin = static_cast<float>(len) / static_cast<float>(n);
  lo = static_cast<int64_t>(std::floor(static_cast<float>(i) * bin)) + start;
  hi = static_cast<int64_t>(std::ceil(static_cast<float>(i + 1) * bin)) + start;
  lo = std::min(std::max<int64_t>(lo, 0), size);
  hi = std::min(std::max<int64_t>(hi, 0), size);
}

// Every bin's [lo, hi) rows and columns.
RoiPoolBins bins_of(const QuantisedRoi& q, int64_t out_h, int64_t out_w, int64_t H, int64_t W) {
  RoiPoolBins b{std::vector<int64_t>(2 * out_h), std::vector<int64_t>(2 * out_w)};
  for (int64_t i = 0; i < out_h; ++i) bin_range(i, out_h, q.y0, q.h, H, b.rows[2 * i], b.rows[2 * i + 1]);
  for (int64_t j = 0; j < out_w; ++j) bin_range(j, out_w, q.x0, q.w, W, b.cols[2 * j], b.cols[2 * j + 1]);
  return b;
}

}  // namespace

RoiPoolBins roi_pool_bins(const float box[4], int64_t out_h, int64_t out_w, float spatial_scale,
                          int64_t H, int64_t W) {
  const float r[5] = {0.0f, box[0], box[1], box[2], box[3]};
  return bins_of(quantise(r, spatial_scale), out_h, out_w, H, W);
}

RoiPoolResult roi_pool_forward(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                               float spatial_scale, bool keep_argmax) {
  check_args(x, rois, out_h, out_w, spatial_scale);
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3), K = rois.size(0);
  RoiPoolResult r{Tensor({K, C, out_h, out_w}), {}};
  if (keep_argmax) r.argmax.assign(K * C * out_h * out_w, -1);
  const float* px = x.data();
  const float* pr = rois.data();
  float* py = r.y.data();
  int64_t* pa = keep_argmax ? r.argmax.data() : nullptr;
  // One RoI per iteration (its output block has one writer): the bins' cell ranges
  // are worked out once and serve every channel.
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < K; ++k) {
    const QuantisedRoi q = quantise(pr + k * 5, spatial_scale);
    const RoiPoolBins bins = bins_of(q, out_h, out_w, H, W);
    const std::vector<int64_t>&rows = bins.rows, &cols = bins.cols;
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = px + (q.batch * C + c) * H * W;
      for (int64_t i = 0; i < out_h; ++i)
        for (int64_t j = 0; j < out_w; ++j) {
          const int64_t y_lo = rows[2 * i], y_hi = rows[2 * i + 1];
          const int64_t x_lo = cols[2 * j], x_hi = cols[2 * j + 1];
          const bool empty = y_hi <= y_lo || x_hi <= x_lo;
          float best = empty ? 0.0f : -FLT_MAX;
          int64_t arg = -1;
          for (int64_t yy = y_lo; yy < y_hi; ++yy)
            for (int64_t xx = x_lo; xx < x_hi; ++xx)
              if (plane[yy * W + xx] > best) {  // strict: the first maximum wins
                best = plane[yy * W + xx];
                arg = yy * W + xx;
              }
          const int64_t o = ((k * C + c) * out_h + i) * out_w + j;
          py[o] = best;
          if (pa) pa[o] = arg;
        }
    }
  }
  return r;
}

Tensor roi_pool_backward(const Tensor& gy, const Tensor& rois, const std::vector<int64_t>& argmax,
                         const Shape& x_shape) {
  check_shape(x_shape.size() == 4, "roi_pool_backward", "x must be 4-D, got " + shape_str(x_shape));
  check_rois(rois, x_shape[0], "roi_pool_backward");
  const int64_t C = x_shape[1], HW = x_shape[2] * x_shape[3], K = rois.size(0);
  check_shape(gy.dim() == 4 && gy.size(0) == K && gy.size(1) == C &&
                  gy.numel() == static_cast<int64_t>(argmax.size()),
              "roi_pool_backward", "grad " + gy.shape_str() + " does not match the forward pass");
  const int64_t bins = gy.size(2) * gy.size(3);
  Tensor gx(x_shape);
  const float* pg = gy.data();
  const float* pr = rois.data();
  float* px = gx.data();
  // RoIs of one image overlap, so threads own channels and walk the RoIs in order:
  // every gradient cell has one writer and a fixed summation order.
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    for (int64_t k = 0; k < K; ++k) {
      float* plane = px + (static_cast<int64_t>(pr[k * 5]) * C + c) * HW;
      const int64_t o = (k * C + c) * bins;
      for (int64_t b = 0; b < bins; ++b)
        if (argmax[o + b] >= 0) plane[argmax[o + b]] += pg[o + b];
    }
  return gx;
}

namespace ag {

Var roi_pool(const Var& x, const Tensor& rois, int64_t out_h, int64_t out_w, float spatial_scale) {
  // The argmax is only needed by the backward pass: inference skips it.
  const bool backward = grad_enabled() && x.requires_grad();
  RoiPoolResult r = roi_pool_forward(x.value(), rois, out_h, out_w, spatial_scale, backward);
  auto argmax = std::make_shared<std::vector<int64_t>>(std::move(r.argmax));
  return make_result(r.y, "roi_pool", {x}, [argmax, rois](Node& n) {
    accumulate_grad(*n.inputs[0],
                    roi_pool_backward(n.grad, rois, *argmax, n.inputs[0]->value.shape()));
  });
}

}  // namespace ag

}  // namespace dl
