#include "lessons/common/segmentation_pictures.h"

#include "data/segmentation_dataset.h"  // kIgnoreLabel
#include "image/draw.h"

namespace dl::cli {

Image colour_labels(const Image& img, const Image& labels, float alpha) {
  Image out = img;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (const int l = labels.at(x, y); l != 0 && l != kIgnoreLabel)
        blend_pixel(out, x, y, voc_palette_color(l), alpha);
  return out;
}

Image side_by_side(const std::vector<Image>& panels, int scale) {
  const int w = panels.at(0).width * scale, h = panels[0].height * scale, gap = 8;
  Image out(int(panels.size()) * (w + gap) - gap, h, 3, 255);
  for (size_t p = 0; p < panels.size(); ++p)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c)
          out.at(int(p) * (w + gap) + x, y, c) = panels[p].at(x / scale, y / scale, c);
  return out;
}

}  // namespace dl::cli
