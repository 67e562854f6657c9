// Drawing results onto images: boxes, translucent instance masks, skeleton lines and
// joints, and text labels. All shapes are clipped to the image; pixel (x, y) is the
// integer grid cell with centre (x + 0.5, y + 0.5) in box coordinates.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "image/image.h"

namespace dl {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};

// A fixed palette of 20 mutually distinct colours (Kelly's list of maximum contrast,
// without white/black), indexed by class; indices wrap around.
Color palette_color(int class_index);
// The PASCAL VOC label colour map (label 0 black, 1 (128,0,0), 2 (0,128,0), ...): the
// bits of the label are spread over the high bits of r, g, b. VOC and labelme
// segmentation PNGs store labels in these colours.
Color voc_palette_color(int label);
// The label whose VOC colour is `c`, or -1 when no label 0..255 has that colour.
int voc_label_of(Color c);

// Sets (alpha = 1) or blends pixel (x, y) towards `color`: out = a*color + (1-a)*old,
// rounded. Grey images get the colour's luma; alpha channels are left as they are.
// Ignores pixels outside the image.
void blend_pixel(Image& img, int x, int y, Color color, float alpha = 1.0f);

// A rectangle outline: the box (x0, y0, x1, y1) is rounded to the pixel columns
// round(x0) .. round(x1)-1 and rows round(y0) .. round(y1)-1; the outline is
// `thickness` pixels wide, drawn inside the box.
void draw_rect(Image& img, float x0, float y0, float x1, float y1, Color color,
               int thickness = 2);
// The same pixels as draw_rect's box, all filled, blended with `alpha`.
void fill_rect(Image& img, float x0, float y0, float x1, float y1, Color color,
               float alpha = 1.0f);

// Blends `color` into every pixel where the row-major mask (mask_w x mask_h, same size
// as the image) is non-zero. Throws ShapeError if the sizes differ.
void draw_mask(Image& img, const uint8_t* mask, int mask_w, int mask_h, Color color,
               float alpha = 0.5f);

// A segment between pixel centres (x0, y0) and (x1, y1) (pixel indices): every pixel
// whose centre lies within thickness/2 of the segment (round caps).
void draw_line(Image& img, float x0, float y0, float x1, float y1, Color color,
               float thickness = 1.0f);
// Every pixel whose centre lies within `radius` of the pixel centre (cx, cy).
void fill_circle(Image& img, float cx, float cy, float radius, Color color, float alpha = 1.0f);

// A pose: joints (x, y) with visibility v (COCO: 0 = unlabelled, skip), limbs as
// 0-based pairs of joint indices. Limbs whose two ends are labelled are drawn as
// lines, then the labelled joints as discs.
struct Keypoint {
  float x = 0, y = 0;
  int v = 0;
};
void draw_skeleton(Image& img, const std::vector<Keypoint>& joints,
                   const std::vector<std::pair<int, int>>& limbs, Color color,
                   float thickness = 2.0f, float joint_radius = 3.0f);

// The box (x, y, width, height) a label would occupy (stb_easy_font's metrics, times
// `scale`, plus a 1-pixel margin on every side).
struct TextBox {
  int x = 0, y = 0, width = 0, height = 0;
};
TextBox text_box(int x, int y, const std::string& text, int scale = 1);
// Draws `text` (ASCII; '\n' breaks lines) in `color` on a filled `background` box
// whose top-left corner is (x, y); nothing is drawn outside text_box(x, y, text, scale).
TextBox draw_text(Image& img, int x, int y, const std::string& text, Color color,
                  Color background, int scale = 1);
// A class label above a detection box (inside it when there is no room above).
void draw_box_label(Image& img, float x0, float y0, const std::string& text, Color background);

}  // namespace dl
