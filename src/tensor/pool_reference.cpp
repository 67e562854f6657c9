// Pooling by its definition, one output element at a time, in double precision:
// the oracle for pool.cpp. Padding is spelled out as "positions outside the input".
#include <algorithm>
#include <limits>

#include "tensor/pool.h"

namespace dl {

Tensor max_pool2d_reference(const Tensor& x, const Pool2dParams& p) {
  const PoolGeometry g = pool2d_geometry(x.shape(), p, "max_pool2d_reference");
  Tensor y({g.N, g.C, g.OH, g.OW});
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t oy = 0; oy < g.OH; ++oy)
        for (int64_t ox = 0; ox < g.OW; ++ox) {
          float best = -std::numeric_limits<float>::infinity();
          for (int i = 0; i < p.kernel_h; ++i)
            for (int j = 0; j < p.kernel_w; ++j) {
              const int64_t iy = oy * p.stride_h - p.pad_h + i, ix = ox * p.stride_w - p.pad_w + j;
              if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) best = std::max(best, x.at({n, c, iy, ix}));
            }
          y.at({n, c, oy, ox}) = best;
        }
  return y;
}

Tensor avg_pool2d_reference(const Tensor& x, const Pool2dParams& p) {
  const PoolGeometry g = pool2d_geometry(x.shape(), p, "avg_pool2d_reference");
  Tensor y({g.N, g.C, g.OH, g.OW});
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t oy = 0; oy < g.OH; ++oy)
        for (int64_t ox = 0; ox < g.OW; ++ox) {
          double sum = 0.0;
          int64_t inside = 0, padded = 0;  // window cells in the input / in the padded input
          for (int i = 0; i < p.kernel_h; ++i)
            for (int j = 0; j < p.kernel_w; ++j) {
              const int64_t iy = oy * p.stride_h - p.pad_h + i, ix = ox * p.stride_w - p.pad_w + j;
              if (iy < g.H + p.pad_h && ix < g.W + p.pad_w) ++padded;
              if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) {
                sum += x.at({n, c, iy, ix});
                ++inside;
              }
            }
          y.at({n, c, oy, ox}) = static_cast<float>(sum / (p.count_include_pad ? padded : inside));
        }
  return y;
}

Tensor adaptive_avg_pool2d_reference(const Tensor& x, int64_t out_h, int64_t out_w) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor y({N, C, out_h, out_w});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oy = 0; oy < out_h; ++oy)
        for (int64_t ox = 0; ox < out_w; ++ox) {
          // Bins as in PyTorch: [floor(o*in/out), ceil((o+1)*in/out)).
          const int64_t y0 = oy * H / out_h, y1 = ((oy + 1) * H + out_h - 1) / out_h;
          const int64_t x0 = ox * W / out_w, x1 = ((ox + 1) * W + out_w - 1) / out_w;
          double sum = 0.0;
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix) sum += x.at({n, c, iy, ix});
          y.at({n, c, oy, ox}) = static_cast<float>(sum / ((y1 - y0) * (x1 - x0)));
        }
  return y;
}

// Output (n, c, k / out_w, k % out_w) = x (n, c, iy, ix) for k = indices at that input,
// taken one input at a time in index order; everything else 0.
Tensor max_unpool2d_reference(const Tensor& x, const std::vector<int64_t>& indices, int64_t out_h,
                              int64_t out_w) {
  const int64_t N = x.size(0), C = x.size(1), h = x.size(2), w = x.size(3);
  Tensor y({N, C, out_h, out_w});
  size_t i = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t iy = 0; iy < h; ++iy)
        for (int64_t ix = 0; ix < w; ++ix, ++i)
          y.at({n, c, indices.at(i) / out_w, indices.at(i) % out_w}) = x.at({n, c, iy, ix});
  return y;
}

}  // namespace dl
