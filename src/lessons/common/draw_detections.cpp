#include "lessons/common/draw_detections.h"

#include <fmt/core.h>

#include <algorithm>

#include "image/draw.h"
#include "image/transforms.h"

namespace dl::cli {

Image draw_detections(const Image& img, const std::vector<Detection>& dets,
                      const std::vector<std::string>& classes) {
  const int zoom = std::max(1, 384 / std::max(1, std::min(img.width, img.height)));
  Image canvas = zoom > 1 ? resize_bilinear(img, img.width * zoom, img.height * zoom) : img;
  const int thick = std::max(1, std::min(canvas.width, canvas.height) / 192);
  for (auto it = dets.rbegin(); it != dets.rend(); ++it) {  // best first in dets: drawn on top
    const Color c = palette_color(it->cls);
    draw_rect(canvas, it->box.x1 * zoom, it->box.y1 * zoom, it->box.x2 * zoom, it->box.y2 * zoom,
              c, thick);
    draw_box_label(canvas, it->box.x1 * zoom, it->box.y1 * zoom,
                   fmt::format("{} {:.2f}", classes.at(it->cls), it->score), c);
  }
  return canvas;
}

nlohmann::json detections_json(const std::vector<Detection>& dets,
                               const std::vector<std::string>& classes) {
  nlohmann::json out = nlohmann::json::array();
  for (const Detection& d : dets)
    out.push_back({{"class", classes.at(d.cls)},
                   {"score", d.score},
                   {"box_xyxy", {d.box.x1, d.box.y1, d.box.x2, d.box.y2}}});
  return out;
}

}  // namespace dl::cli
