#include "lessons/common/draw_detections.h"

#include <fmt/core.h>

#include <algorithm>

#include "data/rle.h"
#include "image/draw.h"
#include "image/transforms.h"

namespace dl::cli {

namespace {

// A box outline in dashes of `dash` pixels, alternately black and white: visible on any
// background and unlike the detections' solid class colours.
void draw_dashed_rect(Image& img, float x0, float y0, float x1, float y1, int thick, int dash) {
  const Color ink[2] = {{0, 0, 0}, {255, 255, 255}};
  auto run = [&](float a0, float a1, const auto& segment) {
    int k = 0;
    for (float a = a0; a < a1; a += dash, ++k) segment(a, std::min(a + dash, a1), ink[k % 2]);
  };
  run(x0, x1, [&](float a, float b, Color c) {
    fill_rect(img, a, y0, b, y0 + thick, c);
    fill_rect(img, a, y1 - thick, b, y1, c);
  });
  run(y0, y1, [&](float a, float b, Color c) {
    fill_rect(img, x0, a, x0 + thick, b, c);
    fill_rect(img, x1 - thick, a, x1, b, c);
  });
}

}  // namespace

Image draw_detections(const Image& img, const std::vector<Detection>& dets,
                      const std::vector<std::string>& classes, const std::vector<TruthBox>& truth) {
  const int zoom = std::max(1, 384 / std::max(1, std::min(img.width, img.height)));
  Image canvas = zoom > 1 ? resize_bilinear(img, img.width * zoom, img.height * zoom) : img;
  const int thick = std::max(1, std::min(canvas.width, canvas.height) / 192);
  // Instance masks (Mask R-CNN) first, translucent, so boxes and labels stay readable.
  for (auto it = dets.rbegin(); it != dets.rend(); ++it) {
    if (it->mask.size() != static_cast<size_t>(img.width) * img.height) continue;
    std::vector<uint8_t> big(static_cast<size_t>(canvas.width) * canvas.height);
    for (int y = 0; y < canvas.height; ++y)
      for (int x = 0; x < canvas.width; ++x)
        big[static_cast<size_t>(y) * canvas.width + x] =
            it->mask[static_cast<size_t>(y / zoom) * img.width + x / zoom];
    draw_mask(canvas, big.data(), canvas.width, canvas.height, palette_color(it->cls), 0.45f);
  }
  for (auto it = dets.rbegin(); it != dets.rend(); ++it) {  // best first in dets: drawn on top
    const Color c = palette_color(it->cls);
    draw_rect(canvas, it->box.x1 * zoom, it->box.y1 * zoom, it->box.x2 * zoom, it->box.y2 * zoom,
              c, thick);
    draw_box_label(canvas, it->box.x1 * zoom, it->box.y1 * zoom,
                   fmt::format("{} {:.2f}", classes.at(it->cls), it->score), c);
  }
  for (const TruthBox& t : truth) {
    const Box b{t.box.x1 * zoom, t.box.y1 * zoom, t.box.x2 * zoom, t.box.y2 * zoom};
    draw_dashed_rect(canvas, b.x1, b.y1, b.x2, b.y2, thick, 4 * thick + 2);
    // Under the box (the detections' labels sit above theirs), inside when at the edge.
    const std::string label = "GT " + t.label;
    const TextBox tb = text_box(0, 0, label);
    const int y = b.y2 + tb.height <= canvas.height ? int(b.y2) : int(b.y2) - tb.height;
    draw_text(canvas, int(b.x1), y, label, Color{255, 255, 255}, Color{0, 0, 0});
  }
  return canvas;
}

nlohmann::json detections_json(const std::vector<Detection>& dets,
                               const std::vector<std::string>& classes, int width, int height) {
  nlohmann::json out = nlohmann::json::array();
  for (const Detection& d : dets) {
    nlohmann::json j = {{"class", classes.at(d.cls)},
                        {"score", d.score},
                        {"box_xyxy", {d.box.x1, d.box.y1, d.box.x2, d.box.y2}}};
    if (!d.mask.empty() && d.mask.size() == static_cast<size_t>(width) * height) {
      Mask m(height, width);
      m.data = d.mask;
      const Rle rle = rle_encode(m);
      j["segmentation"] = {{"size", {height, width}}, {"counts", rle_to_string(rle)}};
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace dl::cli
