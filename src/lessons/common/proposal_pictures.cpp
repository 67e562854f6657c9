#include "lessons/common/proposal_pictures.h"

#include <fmt/core.h>

#include <algorithm>

#include "image/draw.h"
#include "tensor/rng.h"

namespace dl::cli {

Image zoom_nearest(const Image& img, int zoom) {
  if (zoom <= 1) return img;
  Image out(img.width * zoom, img.height * zoom, img.channels);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < img.channels; ++c) out.at(x, y, c) = img.at(x / zoom, y / zoom, c);
  return out;
}

Image segments_image(const Segmentation& seg) {
  Image out(seg.width, seg.height, 3);
  std::vector<Color> colours(seg.num_segments);
  Rng rng(7);
  for (Color& c : colours)
    c = {static_cast<uint8_t>(rng.below(256)), static_cast<uint8_t>(rng.below(256)),
         static_cast<uint8_t>(rng.below(256))};
  for (size_t i = 0; i < seg.labels.size(); ++i) {
    const Color c = colours[seg.labels[i]];
    out.pixels[3 * i] = c.r, out.pixels[3 * i + 1] = c.g, out.pixels[3 * i + 2] = c.b;
  }
  return out;
}

nlohmann::json save_segmentations(const std::string& stem, const SelectiveSearchResult& r,
                                  const SelectiveSearchOptions& so, int zoom) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < r.segmentations.size(); ++i) {
    const ColorSpace cs = so.color_spaces[i / so.ks.size()];
    const float k = so.ks[i % so.ks.size()];
    const std::string file = fmt::format("{}.segments.{}-k{:g}.png", stem, color_space_name(cs), k);
    save_image(file, zoom_nearest(segments_image(r.segmentations[i]), zoom));
    out.push_back({{"file", file},
                   {"color_space", color_space_name(cs)},
                   {"k", k},
                   {"num_segments", r.segmentations[i].num_segments}});
  }
  return out;
}

Image draw_ranked_boxes(const Image& img, const std::vector<Box>& boxes, int top, int zoom) {
  Image canvas = zoom_nearest(img, zoom);
  const int n = std::min<int>(top, static_cast<int>(boxes.size()));
  const float z = static_cast<float>(zoom);
  for (int i = n - 1; i >= 0; --i) {  // best-ranked drawn last, on top
    const Box& b = boxes[i];
    draw_rect(canvas, b.x1 * z, b.y1 * z, b.x2 * z, b.y2 * z, palette_color(i), 1);
  }
  return canvas;
}

void draw_best_proposals(const Image& img, const ProposalImage& pi, int top, int zoom,
                         const std::string& path) {
  Image canvas = zoom_nearest(img, zoom);
  const float z = static_cast<float>(zoom);
  const Color green{40, 220, 40};
  for (const Box& g : pi.ground_truth) draw_rect(canvas, g.x1 * z, g.y1 * z, g.x2 * z, g.y2 * z, green, 3);
  const int n = std::min<int>(top, static_cast<int>(pi.proposals.size()));
  for (size_t j = 0; j < pi.ground_truth.size(); ++j) {
    int best = -1;
    float best_iou = 0;
    for (int i = 0; i < n; ++i) {
      const float iou = box_iou(pi.ground_truth[j], pi.proposals[i]);
      if (iou > best_iou) best_iou = iou, best = i;
    }
    if (best < 0) continue;
    const Box& b = pi.proposals[best];
    const Color c = palette_color(static_cast<int>(j) + 1);
    draw_rect(canvas, b.x1 * z, b.y1 * z, b.x2 * z, b.y2 * z, c, 1);
    draw_box_label(canvas, b.x1 * z, b.y1 * z, fmt::format("#{} {:.2f}", best + 1, best_iou), c);
  }
  save_image(path, canvas);
}

}  // namespace dl::cli
