// RoIAlign, forward and backward (see roi_align.h for the exact rules). Arithmetic is
// in float in torchvision's order so that its dumps compare to rounding error.
#include "detection/roi_align.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "detection/roi_pool.h"

namespace dl {

namespace {

void check_args(const Shape& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                float spatial_scale, const char* op) {
  check_shape(x.size() == 4 && x[2] > 0 && x[3] > 0, op,
              "x must be [N, C, H, W] with H, W > 0, got " + shape_str(x));
  check_shape(out_h > 0 && out_w > 0, op,
              "output size must be positive, got " + std::to_string(out_h) + "x" +
                  std::to_string(out_w));
  check_shape(std::isfinite(spatial_scale) && spatial_scale > 0, op,
              "spatial_scale must be positive and finite");
  check_rois(rois, x[0], op);
}

// Where one RoI's bins and samples lie on the feature map.
struct RoiGeometry {
  int64_t batch;
  float y0, x0;          // scaled top-left corner
  float bin_h, bin_w;    // bin size in cells
  int64_t grid_h, grid_w;  // samples per bin along each axis
  float count;           // divisor of the average (at least 1)
};

RoiGeometry geometry(const float* r, int64_t out_h, int64_t out_w, float scale,
                     int sampling_ratio, bool aligned) {
  const float offset = aligned ? 0.5f : 0.0f;
  RoiGeometry g;
  g.batch = static_cast<int64_t>(r[0]);
  g.x0 = r[1] * scale - offset;
  g.y0 = r[2] * scale - offset;
  float w = r[3] * scale - offset - g.x0;
  float h = r[4] * scale - offset - g.y0;
  if (!aligned) {  // the original RoIAlign: at least one cell, as RoI pooling did
    w = std::max(w, 1.0f);
    h = std::max(h, 1.0f);
  }
  g.bin_h = h / static_cast<float>(out_h);
  g.bin_w = w / static_cast<float>(out_w);
  g.grid_h = sampling_ratio > 0 ? sampling_ratio
                                : static_cast<int64_t>(std::ceil(h / static_cast<float>(out_h)));
  g.grid_w = sampling_ratio > 0 ? sampling_ratio
                                : static_cast<int64_t>(std::ceil(w / static_cast<float>(out_w)));
  // A degenerate RoI can give a grid of 0 (or negative) samples: the bin is then 0.
  g.count = static_cast<float>(std::max<int64_t>(g.grid_h * g.grid_w, 1));
  return g;
}

float sample_y(const RoiGeometry& g, int64_t i, int64_t iy) {
  return g.y0 + static_cast<float>(i) * g.bin_h +
         static_cast<float>(iy + 0.5f) * g.bin_h / static_cast<float>(g.grid_h);
}
float sample_x(const RoiGeometry& g, int64_t j, int64_t ix) {
  return g.x0 + static_cast<float>(j) * g.bin_w +
         static_cast<float>(ix + 0.5f) * g.bin_w / static_cast<float>(g.grid_w);
}

// The four cells around (y, x) and their bilinear weights; valid = false for a
// sample outside [-1, H] x [-1, W], which reads 0.
struct Bilinear {
  bool valid = false;
  int64_t pos[4] = {0, 0, 0, 0};
  float w[4] = {0, 0, 0, 0};
};

Bilinear bilinear(float y, float x, int64_t H, int64_t W) {
  Bilinear b;
  if (y < -1.0f || y > static_cast<float>(H) || x < -1.0f || x > static_cast<float>(W)) return b;
  y = std::max(y, 0.0f);
  x = std::max(x, 0.0f);
  int64_t y_lo = static_cast<int64_t>(y), x_lo = static_cast<int64_t>(x), y_hi, x_hi;
  if (y_lo >= H - 1) {
    y_hi = y_lo = H - 1;
    y = static_cast<float>(y_lo);
  } else {
    y_hi = y_lo + 1;
  }
  if (x_lo >= W - 1) {
    x_hi = x_lo = W - 1;
    x = static_cast<float>(x_lo);
  } else {
    x_hi = x_lo + 1;
  }
  const float ly = y - static_cast<float>(y_lo), lx = x - static_cast<float>(x_lo);
  const float hy = 1.0f - ly, hx = 1.0f - lx;
  b.valid = true;
  b.pos[0] = y_lo * W + x_lo;
  b.pos[1] = y_lo * W + x_hi;
  b.pos[2] = y_hi * W + x_lo;
  b.pos[3] = y_hi * W + x_hi;
  b.w[0] = hy * hx;
  b.w[1] = hy * lx;
  b.w[2] = ly * hx;
  b.w[3] = ly * lx;
  return b;
}

// Every sample of every bin of one RoI, bin-major, then sample row, then column.
std::vector<Bilinear> precompute(const RoiGeometry& g, int64_t out_h, int64_t out_w, int64_t H,
                                 int64_t W) {
  std::vector<Bilinear> s;
  if (g.grid_h <= 0 || g.grid_w <= 0) return s;
  s.reserve(out_h * out_w * g.grid_h * g.grid_w);
  for (int64_t i = 0; i < out_h; ++i)
    for (int64_t j = 0; j < out_w; ++j)
      for (int64_t iy = 0; iy < g.grid_h; ++iy) {
        const float y = sample_y(g, i, iy);
        for (int64_t ix = 0; ix < g.grid_w; ++ix) s.push_back(bilinear(y, sample_x(g, j, ix), H, W));
      }
  return s;
}

}  // namespace

std::vector<SamplePoint> roi_align_sample_points(const float box[4], int64_t out_h, int64_t out_w,
                                                 float spatial_scale, int sampling_ratio,
                                                 bool aligned) {
  const float r[5] = {0.0f, box[0], box[1], box[2], box[3]};
  const RoiGeometry g = geometry(r, out_h, out_w, spatial_scale, sampling_ratio, aligned);
  std::vector<SamplePoint> points;
  for (int64_t i = 0; i < out_h; ++i)
    for (int64_t j = 0; j < out_w; ++j)
      for (int64_t iy = 0; iy < g.grid_h; ++iy)
        for (int64_t ix = 0; ix < g.grid_w; ++ix)
          points.push_back({sample_x(g, j, ix), sample_y(g, i, iy)});
  return points;
}

Tensor roi_align_forward(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                         float spatial_scale, int sampling_ratio, bool aligned) {
  check_args(x.shape(), rois, out_h, out_w, spatial_scale, "roi_align");
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3), K = rois.size(0);
  const int64_t bins = out_h * out_w;
  Tensor y({K, C, out_h, out_w});
  const float* px = x.data();
  const float* pr = rois.data();
  float* py = y.data();
  // One thread per RoI: the sample weights are computed once and reused by every
  // channel, and each output block has one writer.
#pragma omp parallel for schedule(dynamic)
  for (int64_t k = 0; k < K; ++k) {
    const RoiGeometry g = geometry(pr + k * 5, out_h, out_w, spatial_scale, sampling_ratio, aligned);
    const std::vector<Bilinear> s = precompute(g, out_h, out_w, H, W);
    const int64_t per_bin = s.empty() ? 0 : g.grid_h * g.grid_w;
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = px + (g.batch * C + c) * H * W;
      float* out = py + (k * C + c) * bins;
      for (int64_t b = 0; b < bins; ++b) {
        float acc = 0.0f;
        for (int64_t t = b * per_bin; t < (b + 1) * per_bin; ++t) {
          const Bilinear& p = s[t];
          acc += p.w[0] * plane[p.pos[0]] + p.w[1] * plane[p.pos[1]] + p.w[2] * plane[p.pos[2]] +
                 p.w[3] * plane[p.pos[3]];
        }
        out[b] = acc / g.count;
      }
    }
  }
  return y;
}

Tensor roi_align_backward(const Tensor& gy, const Tensor& rois, const Shape& x_shape,
                          float spatial_scale, int sampling_ratio, bool aligned) {
  check_shape(gy.dim() == 4, "roi_align_backward", "grad must be 4-D, got " + gy.shape_str());
  const int64_t out_h = gy.size(2), out_w = gy.size(3);
  check_args(x_shape, rois, out_h, out_w, spatial_scale, "roi_align_backward");
  const int64_t C = x_shape[1], H = x_shape[2], W = x_shape[3], K = rois.size(0);
  check_shape(gy.size(0) == K && gy.size(1) == C, "roi_align_backward",
              "grad " + gy.shape_str() + " does not match x " + shape_str(x_shape) + " and " +
                  std::to_string(K) + " rois");
  const int64_t bins = out_h * out_w;
  Tensor gx(x_shape);
  const float* pg = gy.data();
  const float* pr = rois.data();
  float* px = gx.data();
  // RoIs overlap, so they are walked in order and the threads split the channels:
  // each gradient cell has one writer and a fixed summation order.
  for (int64_t k = 0; k < K; ++k) {
    const RoiGeometry g = geometry(pr + k * 5, out_h, out_w, spatial_scale, sampling_ratio, aligned);
    const std::vector<Bilinear> s = precompute(g, out_h, out_w, H, W);
    if (s.empty()) continue;
    const int64_t per_bin = g.grid_h * g.grid_w;
    // Forking threads per RoI only pays when the RoI has real work.
#pragma omp parallel for schedule(static) if (C * static_cast<int64_t>(s.size()) > 4096)
    for (int64_t c = 0; c < C; ++c) {
      float* plane = px + (g.batch * C + c) * H * W;
      const float* gout = pg + (k * C + c) * bins;
      for (int64_t b = 0; b < bins; ++b)
        for (int64_t t = b * per_bin; t < (b + 1) * per_bin; ++t) {
          const Bilinear& p = s[t];
          if (!p.valid) continue;
          for (int q = 0; q < 4; ++q) plane[p.pos[q]] += gout[b] * p.w[q] / g.count;
        }
    }
  }
  return gx;
}

Tensor roi_align_reference(const Tensor& x, const Tensor& rois, int64_t out_h, int64_t out_w,
                           float spatial_scale, int sampling_ratio, bool aligned) {
  check_args(x.shape(), rois, out_h, out_w, spatial_scale, "roi_align_reference");
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3), K = rois.size(0);
  Tensor y({K, C, out_h, out_w});
  for (int64_t k = 0; k < K; ++k) {
    const RoiGeometry g = geometry(rois.data() + k * 5, out_h, out_w, spatial_scale,
                                   sampling_ratio, aligned);
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = x.data() + (g.batch * C + c) * H * W;
      for (int64_t i = 0; i < out_h; ++i)
        for (int64_t j = 0; j < out_w; ++j) {
          float acc = 0.0f;
          for (int64_t iy = 0; iy < g.grid_h; ++iy)
            for (int64_t ix = 0; ix < g.grid_w; ++ix) {
              const Bilinear p = bilinear(sample_y(g, i, iy), sample_x(g, j, ix), H, W);
              if (!p.valid) continue;
              acc += p.w[0] * plane[p.pos[0]] + p.w[1] * plane[p.pos[1]] +
                     p.w[2] * plane[p.pos[2]] + p.w[3] * plane[p.pos[3]];
            }
          y.at({k, c, i, j}) = acc / g.count;
        }
    }
  }
  return y;
}

namespace ag {

Var roi_align(const Var& x, const Tensor& rois, int64_t out_h, int64_t out_w, float spatial_scale,
              int sampling_ratio, bool aligned) {
  return make_result(
      roi_align_forward(x.value(), rois, out_h, out_w, spatial_scale, sampling_ratio, aligned),
      "roi_align", {x}, [rois, spatial_scale, sampling_ratio, aligned](Node& n) {
        accumulate_grad(*n.inputs[0],
                        roi_align_backward(n.grad, rois, n.inputs[0]->value.shape(),
                                           spatial_scale, sampling_ratio, aligned));
      });
}

}  // namespace ag

}  // namespace dl
