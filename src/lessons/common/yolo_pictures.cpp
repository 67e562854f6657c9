#include "lessons/common/yolo_pictures.h"

#include <algorithm>
#include <cmath>

#include "image/draw.h"
#include "lessons/common/proposal_pictures.h"

namespace dl::cli {

namespace {

// A box outline `thick` pixels wide, blended with `alpha` (draw_rect has no alpha).
void blend_outline(Image& img, float x0, float y0, float x1, float y1, Color c, float thick,
                   float alpha) {
  fill_rect(img, x0, y0, x1, y0 + thick, c, alpha);
  fill_rect(img, x0, y1 - thick, x1, y1, c, alpha);
  fill_rect(img, x0, y0 + thick, x0 + thick, y1 - thick, c, alpha);
  fill_rect(img, x1 - thick, y0 + thick, x1, y1 - thick, c, alpha);
}

void draw_grid(Image& img, int S, Color c) {
  for (int i = 1; i < S; ++i) {
    const float x = float(i) * float(img.width) / float(S), y = float(i) * float(img.height) / float(S);
    fill_rect(img, x - 0.5f, 0, x + 0.5f, float(img.height), c, 0.6f);
    fill_rect(img, 0, y - 0.5f, float(img.width), y + 0.5f, c, 0.6f);
  }
}

void paste(Image& canvas, const Image& img, int x0, int y0) {
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      for (int c = 0; c < 3; ++c) canvas.at(x0 + x, y0 + y, c) = img.at(x, y, std::min(c, img.channels - 1));
}

}  // namespace

Image yolo_grid_picture(const Image& img, const float* out, const models::YoloConfig& cfg,
                        const std::vector<std::string>& classes) {
  const int S = cfg.grid, B = cfg.boxes, C = cfg.num_classes, D = cfg.depth();
  const int zoom = std::max(1, 384 / std::max(img.width, img.height));
  Image base = zoom_nearest(img, zoom);
  for (uint8_t& p : base.pixels) p = static_cast<uint8_t>(p / 2);  // dimmed
  auto best_class = [&](int row, int col) {
    const float* p = out + (static_cast<int64_t>(row) * S + col) * D + 5 * B;
    return static_cast<int>(std::max_element(p, p + C) - p);
  };

  // Left: the grid and every predictor's box, wider and more opaque the more confident.
  Image boxes = base;
  draw_grid(boxes, S, {255, 255, 255});
  for (int row = 0; row < S; ++row)
    for (int col = 0; col < S; ++col)
      for (int b = 0; b < B; ++b) {
        const models::YoloBox yb =
            models::decode_yolo_box(out, cfg, row, col, b, img.width, img.height);
        const float conf = std::clamp(yb.confidence, 0.0f, 1.0f);
        if (conf < 0.02f) continue;
        const Box& q = yb.box;
        blend_outline(boxes, q.x1 * zoom, q.y1 * zoom, q.x2 * zoom, q.y2 * zoom,
                      palette_color(best_class(row, col)), 1.0f + 3.0f * conf, 0.15f + 0.85f * conf);
      }

  // Right: the class probability map, each cell in its most probable class's colour.
  Image map = base;
  const float cw = float(map.width) / float(S), ch = float(map.height) / float(S);
  for (int row = 0; row < S; ++row)
    for (int col = 0; col < S; ++col)
      fill_rect(map, col * cw, row * ch, (col + 1) * cw, (row + 1) * ch,
                palette_color(best_class(row, col)), 0.6f);
  draw_grid(map, S, {0, 0, 0});

  // Side by side, the class colours underneath.
  const int gap = 8, legend_h = 16;
  Image canvas(2 * base.width + gap, base.height + legend_h, 3, 255);
  paste(canvas, boxes, 0, 0);
  paste(canvas, map, base.width + gap, 0);
  int x = 2;
  for (int c = 0; c < C && c < static_cast<int>(classes.size()); ++c) {
    const TextBox t = text_box(x, base.height + 3, classes[c]);
    if (t.x + t.width >= canvas.width) break;
    x += draw_text(canvas, x, base.height + 3, classes[c], {0, 0, 0}, palette_color(c)).width + 4;
  }
  return canvas;
}

}  // namespace dl::cli
