// Pooling, fast path: every (n, c) plane is pooled independently, so OpenMP splits
// the planes and any thread count gives the same bits. Backward passes write only
// into their own plane, so they parallelise the same way without atomics.
#include "tensor/pool.h"

#include <algorithm>
#include <limits>

namespace dl {

namespace {

int64_t pooled_size(int64_t in, int k, int s, int pad, bool ceil_mode) {
  const int64_t span = in + 2 * pad - k;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // ceil_mode may not start a window in the right padding (PyTorch's rule).
  if (ceil_mode && (out - 1) * s >= in + pad) --out;
  return out;
}

// Window of output cell o along one axis: [start, end) clipped to the input, and the
// size of the window clipped only to the padded input (the count_include_pad divisor).
struct Window {
  int64_t start, end, padded_size;
};
Window window(int64_t o, int k, int s, int pad, int64_t in) {
  const int64_t start = o * s - pad;
  const int64_t end = std::min(start + k, in + pad);
  return {std::max<int64_t>(start, 0), std::min(end, in), end - start};
}

// Below this many elements, starting threads costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

}  // namespace

PoolGeometry pool2d_geometry(const Shape& x, const Pool2dParams& p, const char* op) {
  check_shape(x.size() == 4, op, "input must be [N, C, H, W], got " + shape_str(x));
  check_shape(p.kernel_h > 0 && p.kernel_w > 0 && p.stride_h > 0 && p.stride_w > 0, op,
              "kernel and stride must be >= 1");
  check_shape(p.pad_h >= 0 && p.pad_w >= 0 && 2 * p.pad_h <= p.kernel_h &&
                  2 * p.pad_w <= p.kernel_w,
              op, "padding must be between 0 and half the kernel size");
  check_shape(x[2] + 2 * p.pad_h >= p.kernel_h && x[3] + 2 * p.pad_w >= p.kernel_w, op,
              "kernel " + std::to_string(p.kernel_h) + "x" + std::to_string(p.kernel_w) +
                  " is larger than the padded input " + shape_str(x));
  PoolGeometry g{x[0], x[1], x[2], x[3], 0, 0, p};
  g.OH = pooled_size(g.H, p.kernel_h, p.stride_h, p.pad_h, p.ceil_mode);
  g.OW = pooled_size(g.W, p.kernel_w, p.stride_w, p.pad_w, p.ceil_mode);
  return g;
}

MaxPoolResult max_pool2d_forward(const Tensor& x, const Pool2dParams& p) {
  const PoolGeometry g = pool2d_geometry(x.shape(), p, "max_pool2d");
  MaxPoolResult r{Tensor({g.N, g.C, g.OH, g.OW}), {}};
  r.argmax.resize(static_cast<size_t>(r.y.numel()));
  const float* px = x.data();
  float* py = r.y.data();
  int64_t* pa = r.argmax.data();
  const int64_t planes = g.N * g.C;
  // The networks here pool 2x2 with stride 2 almost everywhere: every window is then
  // whole, and the four cells can be compared without the general loop's clipping
  // (same winner on ties and NaNs).
  const bool whole_2x2 = p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 &&
                         p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0 &&
                         g.OH * 2 <= g.H && g.OW * 2 <= g.W;
  if (whole_2x2) {
    const int64_t H = g.H, W = g.W, OH = g.OH, OW = g.OW;
#pragma omp parallel for schedule(static) if (x.numel() > kParallelMin)
    for (int64_t pl = 0; pl < planes; ++pl)
      for (int64_t oy = 0; oy < OH; ++oy) {
        const float* __restrict r0 = px + pl * H * W + 2 * oy * W;
        const float* __restrict r1 = r0 + W;
        float* __restrict out = py + (pl * OH + oy) * OW;
        int64_t* __restrict arg = pa + (pl * OH + oy) * OW;
        // Selects, not branches (which cell wins is random, so a branch per cell
        // mispredicts half the time), so the compiler can vectorise the row. Pairwise:
        // the first maximum of the top pair, of the bottom pair, then of the two.
        int nan = 0;
        for (int64_t ox = 0; ox < OW; ++ox) {
          const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
          const bool kb = b > a, kd = d > c;
          const float top = kb ? b : a, bottom = kd ? d : c;
          const bool low = bottom > top;
          out[ox] = low ? bottom : top;
          arg[ox] = (2 * oy + low) * W + 2 * ox + (low ? kd : kb);
          nan |= (a != a) | (b != b) | (c != c) | (d != d);
        }
        if (nan)  // NaNs propagate, the last NaN in scan order wins (PyTorch's rule)
          for (int64_t ox = 0; ox < OW; ++ox) {
            const int64_t i0 = 2 * oy * W + 2 * ox;
            const int64_t cells[4] = {i0, i0 + 1, i0 + W, i0 + W + 1};
            for (int64_t cell : cells) {
              const float v = px[pl * H * W + cell];
              if (v != v) out[ox] = v, arg[ox] = cell;
            }
          }
      }
    return r;
  }
#pragma omp parallel for schedule(static) if (x.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* in = px + pl * g.H * g.W;
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      const Window wy = window(oy, p.kernel_h, p.stride_h, p.pad_h, g.H);
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        const Window wx = window(ox, p.kernel_w, p.stride_w, p.pad_w, g.W);
        float best = -std::numeric_limits<float>::infinity();
        int64_t arg = wy.start * g.W + wx.start;
        for (int64_t iy = wy.start; iy < wy.end; ++iy)
          for (int64_t ix = wx.start; ix < wx.end; ++ix) {
            const float v = in[iy * g.W + ix];
            if (v > best || v != v) {  // NaN propagates, as in PyTorch
              best = v;
              arg = iy * g.W + ix;
            }
          }
        const int64_t o = (pl * g.OH + oy) * g.OW + ox;
        py[o] = best;
        pa[o] = arg;
      }
    }
  }
  return r;
}

Tensor max_pool2d_backward(const Tensor& gy, const std::vector<int64_t>& argmax,
                           const Shape& x_shape) {
  check_shape(x_shape.size() == 4 && gy.dim() == 4 && gy.size(0) == x_shape[0] &&
                  gy.size(1) == x_shape[1] && static_cast<int64_t>(argmax.size()) == gy.numel(),
              "max_pool2d_backward", "gradient " + gy.shape_str() + " does not match input " +
                                         shape_str(x_shape) + " and its argmax");
  Tensor dx(x_shape);
  const int64_t planes = x_shape[0] * x_shape[1], hw = x_shape[2] * x_shape[3];
  const int64_t ohw = gy.size(2) * gy.size(3);
  const float* pg = gy.data();
  float* pd = dx.data();
#pragma omp parallel for schedule(static) if (dx.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t o = 0; o < ohw; ++o) pd[pl * hw + argmax[pl * ohw + o]] += pg[pl * ohw + o];
  return dx;
}

Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p) {
  const PoolGeometry g = pool2d_geometry(x.shape(), p, "avg_pool2d");
  Tensor y({g.N, g.C, g.OH, g.OW});
  const float* px = x.data();
  float* py = y.data();
  const int64_t planes = g.N * g.C;
#pragma omp parallel for schedule(static) if (x.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* in = px + pl * g.H * g.W;
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      const Window wy = window(oy, p.kernel_h, p.stride_h, p.pad_h, g.H);
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        const Window wx = window(ox, p.kernel_w, p.stride_w, p.pad_w, g.W);
        float sum = 0.0f;
        for (int64_t iy = wy.start; iy < wy.end; ++iy)
          for (int64_t ix = wx.start; ix < wx.end; ++ix) sum += in[iy * g.W + ix];
        const int64_t divisor = p.count_include_pad ? wy.padded_size * wx.padded_size
                                                    : (wy.end - wy.start) * (wx.end - wx.start);
        py[(pl * g.OH + oy) * g.OW + ox] = sum / static_cast<float>(divisor);
      }
    }
  }
  return y;
}

Tensor avg_pool2d_backward(const Tensor& gy, const Shape& x_shape, const Pool2dParams& p) {
  const PoolGeometry g = pool2d_geometry(x_shape, p, "avg_pool2d_backward");
  check_shape(gy.shape() == Shape{g.N, g.C, g.OH, g.OW}, "avg_pool2d_backward",
              "gradient " + gy.shape_str() + " does not match the pooled input " +
                  shape_str(x_shape));
  Tensor dx(x_shape);
  const float* pg = gy.data();
  float* pd = dx.data();
  const int64_t planes = g.N * g.C;
#pragma omp parallel for schedule(static) if (dx.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl) {
    float* out = pd + pl * g.H * g.W;
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      const Window wy = window(oy, p.kernel_h, p.stride_h, p.pad_h, g.H);
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        const Window wx = window(ox, p.kernel_w, p.stride_w, p.pad_w, g.W);
        const int64_t divisor = p.count_include_pad ? wy.padded_size * wx.padded_size
                                                    : (wy.end - wy.start) * (wx.end - wx.start);
        const float share = pg[(pl * g.OH + oy) * g.OW + ox] / static_cast<float>(divisor);
        for (int64_t iy = wy.start; iy < wy.end; ++iy)
          for (int64_t ix = wx.start; ix < wx.end; ++ix) out[iy * g.W + ix] += share;
      }
    }
  }
  return dx;
}

namespace {
int64_t adaptive_start(int64_t o, int64_t out, int64_t in) { return (o * in) / out; }
int64_t adaptive_end(int64_t o, int64_t out, int64_t in) { return ((o + 1) * in + out - 1) / out; }
}  // namespace

Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w) {
  check_shape(x.dim() == 4, "adaptive_avg_pool2d", "input must be [N, C, H, W], got " + x.shape_str());
  check_shape(out_h > 0 && out_w > 0 && x.size(2) > 0 && x.size(3) > 0, "adaptive_avg_pool2d",
              "output and input sizes must be positive");
  const int64_t H = x.size(2), W = x.size(3), planes = x.size(0) * x.size(1);
  Tensor y({x.size(0), x.size(1), out_h, out_w});
  const float* px = x.data();
  float* py = y.data();
#pragma omp parallel for schedule(static) if (x.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oy = 0; oy < out_h; ++oy)
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const int64_t y0 = adaptive_start(oy, out_h, H), y1 = adaptive_end(oy, out_h, H);
        const int64_t x0 = adaptive_start(ox, out_w, W), x1 = adaptive_end(ox, out_w, W);
        float sum = 0.0f;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) sum += px[(pl * H + iy) * W + ix];
        py[(pl * out_h + oy) * out_w + ox] = sum / static_cast<float>((y1 - y0) * (x1 - x0));
      }
  return y;
}

Tensor adaptive_avg_pool2d_backward(const Tensor& gy, const Shape& x_shape) {
  check_shape(x_shape.size() == 4 && gy.dim() == 4 && gy.size(0) == x_shape[0] &&
                  gy.size(1) == x_shape[1],
              "adaptive_avg_pool2d_backward",
              "gradient " + gy.shape_str() + " does not match input " + shape_str(x_shape));
  const int64_t H = x_shape[2], W = x_shape[3], planes = x_shape[0] * x_shape[1];
  const int64_t out_h = gy.size(2), out_w = gy.size(3);
  Tensor dx(x_shape);
  const float* pg = gy.data();
  float* pd = dx.data();
#pragma omp parallel for schedule(static) if (dx.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oy = 0; oy < out_h; ++oy)
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const int64_t y0 = adaptive_start(oy, out_h, H), y1 = adaptive_end(oy, out_h, H);
        const int64_t x0 = adaptive_start(ox, out_w, W), x1 = adaptive_end(ox, out_w, W);
        const float share =
            pg[(pl * out_h + oy) * out_w + ox] / static_cast<float>((y1 - y0) * (x1 - x0));
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) pd[(pl * H + iy) * W + ix] += share;
      }
  return dx;
}

// ---- max unpooling ---------------------------------------------------------------------
namespace {
void check_unpool(const Shape& x, size_t n_indices, int64_t out_h, int64_t out_w, const char* op) {
  check_shape(x.size() == 4, op, "input must be [N, C, h, w], got " + shape_str(x));
  check_shape(out_h > 0 && out_w > 0, op, "output size must be positive");
  check_shape(static_cast<int64_t>(n_indices) == x[0] * x[1] * x[2] * x[3], op,
              "one index per input value needed, got " + std::to_string(n_indices) + " for " +
                  shape_str(x));
}
}  // namespace

Tensor max_unpool2d_forward(const Tensor& x, const std::vector<int64_t>& indices, int64_t out_h,
                            int64_t out_w) {
  check_unpool(x.shape(), indices.size(), out_h, out_w, "max_unpool2d");
  const int64_t planes = x.size(0) * x.size(1), in_plane = x.size(2) * x.size(3);
  const int64_t out_plane = out_h * out_w;
  for (int64_t k : indices)
    check_shape(k >= 0 && k < out_plane, "max_unpool2d",
                "index " + std::to_string(k) + " outside the " + std::to_string(out_h) + " x " +
                    std::to_string(out_w) + " output plane");
  Tensor y({x.size(0), x.size(1), out_h, out_w});
  const float* px = x.data();
  float* py = y.data();
  const int64_t* pi = indices.data();
  // Planes are independent; within a plane the scan order fixes who wins a shared place.
#pragma omp parallel for schedule(static) if (y.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t i = pl * in_plane; i < (pl + 1) * in_plane; ++i) py[pl * out_plane + pi[i]] = px[i];
  return y;
}

Tensor max_unpool2d_backward(const Tensor& gy, const std::vector<int64_t>& indices,
                             const Shape& x_shape) {
  check_unpool(x_shape, indices.size(), gy.dim() == 4 ? gy.size(2) : 0, gy.dim() == 4 ? gy.size(3) : 0,
               "max_unpool2d_backward");
  check_shape(gy.size(0) == x_shape[0] && gy.size(1) == x_shape[1], "max_unpool2d_backward",
              "gradient " + gy.shape_str() + " does not match input " + shape_str(x_shape));
  const int64_t planes = x_shape[0] * x_shape[1], in_plane = x_shape[2] * x_shape[3];
  const int64_t out_plane = gy.size(2) * gy.size(3);
  Tensor dx(x_shape);
  const float* pg = gy.data();
  float* pd = dx.data();
  const int64_t* pi = indices.data();
#pragma omp parallel for schedule(static) if (gy.numel() > kParallelMin)
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t i = pl * in_plane; i < (pl + 1) * in_plane; ++i) pd[i] = pg[pl * out_plane + pi[i]];
  return dx;
}

}  // namespace dl
