#include "lessons/common/roi_sampling_picture.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "detection/roi_align.h"
#include "detection/roi_pool.h"
#include "image/draw.h"

namespace dl::cli {

namespace {

const Color kGrid{150, 150, 150}, kReal{40, 200, 60}, kRounded{230, 40, 40},
    kBin{250, 210, 40}, kSample{230, 30, 30}, kBinShade[2] = {{60, 120, 250}, {250, 140, 30}};

// The image between whole cells (x0, y0) .. (x0 + w, y0 + h) (in cells), each pixel
// enlarged to zoom x zoom, with the cells' grid.
struct Panel {
  Image picture;
  int x0, y0, zoom, stride;
  float px(float image_x) const { return (image_x - float(x0 * stride)) * float(zoom); }
  float py(float image_y) const { return (image_y - float(y0 * stride)) * float(zoom); }
};

Panel panel(const Image& img, int x0, int y0, int w, int h, int stride, int zoom) {
  Panel p{Image(w * stride * zoom, h * stride * zoom, 3, 255), x0, y0, zoom, stride};
  for (int y = 0; y < p.picture.height; ++y)
    for (int x = 0; x < p.picture.width; ++x) {
      const int ix = x0 * stride + x / zoom, iy = y0 * stride + y / zoom;
      if (ix >= img.width || iy >= img.height) continue;
      for (int c = 0; c < 3; ++c) p.picture.at(x, y, c) = img.at(ix, iy, img.channels == 1 ? 0 : c);
    }
  for (int c = 0; c <= w; ++c)
    draw_line(p.picture, float(c * stride * zoom), 0, float(c * stride * zoom),
              float(p.picture.height - 1), kGrid);
  for (int r = 0; r <= h; ++r)
    draw_line(p.picture, 0, float(r * stride * zoom), float(p.picture.width - 1),
              float(r * stride * zoom), kGrid);
  return p;
}

void outline(Panel& p, float x1, float y1, float x2, float y2, Color c, int thickness) {
  draw_rect(p.picture, p.px(x1), p.py(y1), p.px(x2), p.py(y2), c, thickness);
}

}  // namespace

Image roi_sampling_picture(const Image& img, const Box& roi, int stride, int pool,
                           int sampling_ratio) {
  const float box[4] = {roi.x1, roi.y1, roi.x2, roi.y2};
  const float scale = 1.0f / float(stride);
  const int map_w = (img.width + stride - 1) / stride, map_h = (img.height + stride - 1) / stride;
  // The cells the RoI touches, one more on every side, within the map.
  const int cx0 = std::max(0, int(std::floor(roi.x1 * scale)) - 1);
  const int cy0 = std::max(0, int(std::floor(roi.y1 * scale)) - 1);
  const int cx1 = std::min(map_w, int(std::ceil(roi.x2 * scale)) + 2);
  const int cy1 = std::min(map_h, int(std::ceil(roi.y2 * scale)) + 2);
  const int w = std::max(1, cx1 - cx0), h = std::max(1, cy1 - cy0);
  const int zoom = std::max(1, 360 / (std::max(w, h) * stride));

  // Left: RoI pooling's bins, whole cells.
  Panel left = panel(img, cx0, cy0, w, h, stride, zoom);
  const RoiPoolBins bins = roi_pool_bins(box, pool, pool, scale, map_h, map_w);
  const float s = float(stride);  // cells -> image pixels
  for (int i = 0; i < pool; ++i)
    for (int j = 0; j < pool; ++j) {
      fill_rect(left.picture, left.px(bins.cols[2 * j] * s), left.py(bins.rows[2 * i] * s),
                left.px(bins.cols[2 * j + 1] * s), left.py(bins.rows[2 * i + 1] * s),
                kBinShade[(i + j) % 2], 0.3f);
    }
  outline(left, bins.cols.front() * s, bins.rows.front() * s, bins.cols.back() * s,
          bins.rows.back() * s, kRounded, 2);
  outline(left, roi.x1, roi.y1, roi.x2, roi.y2, kReal, 2);

  // Right: RoIAlign's equal bins and sample points (feature-map coordinates: image / stride).
  Panel right = panel(img, cx0, cy0, w, h, stride, zoom);
  for (int k = 0; k <= pool; ++k) {
    const float x = roi.x1 + roi.width() * float(k) / float(pool);
    const float y = roi.y1 + roi.height() * float(k) / float(pool);
    draw_line(right.picture, right.px(x), right.py(roi.y1), right.px(x), right.py(roi.y2), kBin);
    draw_line(right.picture, right.px(roi.x1), right.py(y), right.px(roi.x2), right.py(y), kBin);
  }
  outline(right, roi.x1, roi.y1, roi.x2, roi.y2, kReal, 2);
  const float dot = std::clamp(0.06f * roi.width() * zoom / float(pool), 1.0f, 3.0f);
  for (const SamplePoint& q : roi_align_sample_points(box, pool, pool, scale, sampling_ratio))
    fill_circle(right.picture, right.px(q.x * s), right.py(q.y * s), dot, kSample);

  // Side by side under four title lines (wide enough for them however narrow the RoI).
  const int title = 64, gap = 12, line = 15;
  const int width = std::max(2 * left.picture.width + gap, 340);
  Image out(width, left.picture.height + title, 3, 255);
  for (int panel_index = 0; panel_index < 2; ++panel_index) {
    const Image& src = panel_index == 0 ? left.picture : right.picture;
    const int ox = panel_index * (src.width + gap);
    for (int y = 0; y < src.height; ++y)
      for (int x = 0; x < src.width; ++x)
        for (int c = 0; c < 3; ++c) out.at(ox + x, title + y, c) = src.at(x, y, c);
  }
  const std::string lines[4] = {
      fmt::format("left: RoI pooling {0}x{0}, the box rounded to cells (red)", pool),
      fmt::format("right: RoIAlign {0}x{0} on the real box (green),", pool),
      sampling_ratio > 0
          ? fmt::format("  {0}x{0} bilinear samples per bin (red dots)", sampling_ratio)
          : std::string("  adaptive bilinear samples per bin (red dots)"),
      fmt::format("stride {}: a grid square is one feature-map cell", stride)};
  for (int k = 0; k < 4; ++k)
    draw_text(out, 4, 2 + line * k, lines[k], Color{0, 0, 0}, Color{255, 255, 255}, 1);
  return out;
}

}  // namespace dl::cli
