#include "detection/spp_pool.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "autograd/ops.h"
#include "detection/roi_pool.h"
#include "tensor/ops.h"

namespace dl {

namespace {
void check_levels(const std::vector<int>& levels) {
  check_shape(!levels.empty(), "spp_pool", "needs at least one pyramid level");
  for (int n : levels)
    check_shape(n > 0, "spp_pool", "pyramid levels must be positive, got " + std::to_string(n));
}

// First and last cell whose centre (c + 0.5) * stride lies in [lo, hi].
void cells(float lo, float hi, float stride, int size, int& first, int& last) {
  first = static_cast<int>(std::ceil(lo / stride - 0.5f));
  last = static_cast<int>(std::floor(hi / stride - 0.5f));
  if (last < first) first = last = static_cast<int>(std::floor(0.5f * (lo + hi) / stride));
  first = std::clamp(first, 0, size - 1);
  last = std::clamp(last, first, size - 1);
}
}  // namespace

CellRange project_window(const Box& window, float stride, int map_w, int map_h) {
  check_shape(stride > 0 && map_w > 0 && map_h > 0, "project_window",
              "needs a positive stride and map size");
  CellRange r;
  cells(window.x1, window.x2, stride, map_w, r.x0, r.x1);
  cells(window.y1, window.y2, stride, map_h, r.y0, r.y1);
  return r;
}

Tensor spp_rois(const std::vector<Box>& windows, int batch_index, float stride, int map_w,
                int map_h) {
  Tensor rois({static_cast<int64_t>(windows.size()), 5});
  for (size_t k = 0; k < windows.size(); ++k) {
    const CellRange c = project_window(windows[k], stride, map_w, map_h);
    float* r = rois.data() + k * 5;
    r[0] = static_cast<float>(batch_index);
    r[1] = static_cast<float>(c.x0);
    r[2] = static_cast<float>(c.y0);
    r[3] = static_cast<float>(c.x1);
    r[4] = static_cast<float>(c.y1);
  }
  return rois;
}

Tensor spp_pool_forward(const Tensor& x, const Tensor& rois, const std::vector<int>& levels) {
  check_levels(levels);
  std::vector<Tensor> parts;
  for (int n : levels) {
    const Tensor y = roi_pool_forward(x, rois, n, n, 1.0f, false).y;
    parts.push_back(y.reshape({y.size(0), y.size(1) * n * n}));
  }
  return concat(parts, 1);
}

Tensor spp_pool_reference(const Tensor& x, const Tensor& rois, const std::vector<int>& levels) {
  check_levels(levels);
  check_shape(x.dim() == 4, "spp_pool", "x must be [N, C, H, W], got " + x.shape_str());
  check_rois(rois, x.size(0), "spp_pool");
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3), K = rois.size(0);
  int64_t per_roi = 0;
  for (int n : levels) per_roi += C * n * n;
  Tensor y({K, per_roi});
  for (int64_t k = 0; k < K; ++k) {
    const float* r = rois.data() + k * 5;
    const int64_t b = static_cast<int64_t>(r[0]);
    const int64_t x0 = static_cast<int64_t>(std::lround(r[1]));
    const int64_t y0 = static_cast<int64_t>(std::lround(r[2]));
    const int64_t w = std::max<int64_t>(static_cast<int64_t>(std::lround(r[3])) - x0 + 1, 1);
    const int64_t h = std::max<int64_t>(static_cast<int64_t>(std::lround(r[4])) - y0 + 1, 1);
    int64_t o = 0;
    for (int n : levels)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < n; ++j, ++o) {
            // Bin (i, j): rows [floor(i h / n), ceil((i + 1) h / n)) of the window.
            const int64_t ya = std::clamp<int64_t>(y0 + (i * h) / n, 0, H);
            const int64_t yb = std::clamp<int64_t>(y0 + ((i + 1) * h + n - 1) / n, 0, H);
            const int64_t xa = std::clamp<int64_t>(x0 + (j * w) / n, 0, W);
            const int64_t xb = std::clamp<int64_t>(x0 + ((j + 1) * w + n - 1) / n, 0, W);
            float best = ya < yb && xa < xb ? -FLT_MAX : 0.0f;
            for (int64_t yy = ya; yy < yb; ++yy)
              for (int64_t xx = xa; xx < xb; ++xx)
                best = std::max(best, x.data()[((b * C + c) * H + yy) * W + xx]);
            y.data()[k * per_roi + o] = best;
          }
  }
  return y;
}

namespace ag {
Var spp_pool(const Var& x, const Tensor& rois, const std::vector<int>& levels) {
  check_levels(levels);
  std::vector<Var> parts;
  for (int n : levels) parts.push_back(flatten(roi_pool(x, rois, n, n, 1.0f), 1));
  return concat(parts, 1);
}
}  // namespace ag

}  // namespace dl
