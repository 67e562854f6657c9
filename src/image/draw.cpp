// Rasterisation is deliberately per-pixel and plain: each shape visits the pixels of
// its clipped bounding box and tests the pixel centre against the shape.
#include "image/draw.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "tensor/tensor.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace dl {

Color palette_color(int class_index) {
  // Kelly (1965), "Twenty-two colors of maximum contrast", minus white and black.
  static const Color kPalette[20] = {
      {243, 195, 0},  {135, 86, 146}, {243, 132, 0},  {161, 202, 241}, {190, 0, 50},
      {194, 178, 128}, {132, 132, 130}, {0, 136, 86},  {230, 143, 172}, {0, 103, 165},
      {249, 147, 121}, {96, 78, 151},  {246, 166, 0},  {179, 68, 108},  {220, 211, 0},
      {136, 45, 23},  {141, 182, 0},  {101, 69, 34},  {226, 88, 34},   {43, 61, 38}};
  const int n = 20;
  return kPalette[((class_index % n) + n) % n];
}

Color voc_palette_color(int label) {
  Color c;
  int bits = label;
  for (int j = 0; j < 8 && bits > 0; ++j, bits >>= 3) {
    c.r = static_cast<uint8_t>(c.r | (((bits >> 0) & 1) << (7 - j)));
    c.g = static_cast<uint8_t>(c.g | (((bits >> 1) & 1) << (7 - j)));
    c.b = static_cast<uint8_t>(c.b | (((bits >> 2) & 1) << (7 - j)));
  }
  return c;
}

int voc_label_of(Color c) {
  for (int label = 0; label < 256; ++label) {
    const Color v = voc_palette_color(label);
    if (v.r == c.r && v.g == c.g && v.b == c.b) return label;
  }
  return -1;
}

namespace {
uint8_t mix(uint8_t color, uint8_t old, float alpha) {
  const float v = alpha * color + (1.0f - alpha) * old + 0.5f;
  return static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
}

// Coordinates far outside any image (or NaN) are pinned, so the int conversions
// below stay defined; clipping then drops them.
constexpr float kFar = 1e7f;
float pin(float v) { return v > -kFar ? std::min(v, kFar) : -kFar; }
int round_to_int(float v) { return static_cast<int>(std::lround(pin(v))); }
}  // namespace

void blend_pixel(Image& img, int x, int y, Color color, float alpha) {
  if (!img.contains(x, y)) return;
  if (img.channels < 3) {
    // ITU-R BT.601 luma, the usual grey conversion.
    const float grey = 0.299f * color.r + 0.587f * color.g + 0.114f * color.b;
    img.at(x, y, 0) = mix(static_cast<uint8_t>(grey + 0.5f), img.at(x, y, 0), alpha);
    return;
  }
  img.at(x, y, 0) = mix(color.r, img.at(x, y, 0), alpha);
  img.at(x, y, 1) = mix(color.g, img.at(x, y, 1), alpha);
  img.at(x, y, 2) = mix(color.b, img.at(x, y, 2), alpha);
}

void fill_rect(Image& img, float x0, float y0, float x1, float y1, Color color, float alpha) {
  const int ax = std::max(round_to_int(x0), 0), ay = std::max(round_to_int(y0), 0);
  const int bx = std::min(round_to_int(x1), img.width), by = std::min(round_to_int(y1), img.height);
  for (int y = ay; y < by; ++y)
    for (int x = ax; x < bx; ++x) blend_pixel(img, x, y, color, alpha);
}

void draw_rect(Image& img, float x0, float y0, float x1, float y1, Color color, int thickness) {
  const int ax = round_to_int(x0), ay = round_to_int(y0);
  const int bx = round_to_int(x1), by = round_to_int(y1);
  const int t = std::max(thickness, 1);
  for (int y = std::max(ay, 0); y < std::min(by, img.height); ++y)
    for (int x = std::max(ax, 0); x < std::min(bx, img.width); ++x) {
      const bool on_edge = x < ax + t || x >= bx - t || y < ay + t || y >= by - t;
      if (on_edge) blend_pixel(img, x, y, color);
    }
}

void draw_mask(Image& img, const uint8_t* mask, int mask_w, int mask_h, Color color, float alpha) {
  check_shape(mask_w == img.width && mask_h == img.height, "draw_mask",
              "mask is " + std::to_string(mask_w) + "x" + std::to_string(mask_h) + ", image is " +
                  std::to_string(img.width) + "x" + std::to_string(img.height));
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (mask[static_cast<size_t>(y) * mask_w + x]) blend_pixel(img, x, y, color, alpha);
}

void draw_line(Image& img, float x0, float y0, float x1, float y1, Color color, float thickness) {
  x0 = pin(x0), y0 = pin(y0), x1 = pin(x1), y1 = pin(y1), thickness = pin(thickness);
  const float r = std::max(thickness, 1.0f) * 0.5f;
  const float dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  const int ax = std::max(static_cast<int>(std::floor(std::min(x0, x1) - r)), 0);
  const int ay = std::max(static_cast<int>(std::floor(std::min(y0, y1) - r)), 0);
  const int bx = std::min(static_cast<int>(std::ceil(std::max(x0, x1) + r)), img.width - 1);
  const int by = std::min(static_cast<int>(std::ceil(std::max(y0, y1) + r)), img.height - 1);
  for (int y = ay; y <= by; ++y)
    for (int x = ax; x <= bx; ++x) {
      // Distance from the pixel to the closest point of the segment.
      float t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0.0f;
      t = std::clamp(t, 0.0f, 1.0f);
      const float ex = x - (x0 + t * dx), ey = y - (y0 + t * dy);
      if (ex * ex + ey * ey <= r * r + 1e-4f) blend_pixel(img, x, y, color);
    }
}

void fill_circle(Image& img, float cx, float cy, float radius, Color color, float alpha) {
  cx = pin(cx), cy = pin(cy), radius = pin(radius);
  const int ax = std::max(static_cast<int>(std::floor(cx - radius)), 0);
  const int ay = std::max(static_cast<int>(std::floor(cy - radius)), 0);
  const int bx = std::min(static_cast<int>(std::ceil(cx + radius)), img.width - 1);
  const int by = std::min(static_cast<int>(std::ceil(cy + radius)), img.height - 1);
  for (int y = ay; y <= by; ++y)
    for (int x = ax; x <= bx; ++x)
      if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius + 1e-4f)
        blend_pixel(img, x, y, color, alpha);
}

void draw_skeleton(Image& img, const std::vector<Keypoint>& joints,
                   const std::vector<std::pair<int, int>>& limbs, Color color, float thickness,
                   float joint_radius) {
  const int n = static_cast<int>(joints.size());
  for (const auto& [a, b] : limbs) {
    if (a < 0 || b < 0 || a >= n || b >= n) continue;
    if (joints[a].v > 0 && joints[b].v > 0)
      draw_line(img, joints[a].x, joints[a].y, joints[b].x, joints[b].y, color, thickness);
  }
  for (const Keypoint& k : joints)
    if (k.v > 0) fill_circle(img, k.x, k.y, joint_radius, color);
}

TextBox text_box(int x, int y, const std::string& text, int scale) {
  std::string copy = text;  // stb_easy_font takes a non-const char*
  const int s = std::max(scale, 1);
  TextBox box;
  box.x = x;
  box.y = y;
  box.width = stb_easy_font_width(copy.data()) * s + 2;
  box.height = stb_easy_font_height(copy.data()) * s + 2;
  return box;
}

TextBox draw_text(Image& img, int x, int y, const std::string& text, Color color,
                  Color background, int scale) {
  const int s = std::max(scale, 1);
  const TextBox box = text_box(x, y, text, s);
  fill_rect(img, static_cast<float>(box.x), static_cast<float>(box.y),
            static_cast<float>(box.x + box.width), static_cast<float>(box.y + box.height),
            background);
  // stb_easy_font emits axis-aligned quads (4 vertices of 16 bytes: x, y, z, rgba)
  // in font units, origin at the text's top-left; at most 11 quads per character.
  std::string copy = text;
  std::vector<char> buffer(copy.size() * 16 * 64 + 64);
  const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, buffer.data(),
                                        static_cast<int>(buffer.size()));
  for (int q = 0; q < quads; ++q) {
    const float* v0 = reinterpret_cast<const float*>(buffer.data() + q * 64);
    const float* v2 = reinterpret_cast<const float*>(buffer.data() + q * 64 + 32);
    // Clip each quad to the label box so text never spills outside it.
    const int qx0 = std::max(box.x + 1 + round_to_int(std::min(v0[0], v2[0]) * s), box.x);
    const int qy0 = std::max(box.y + 1 + round_to_int(std::min(v0[1], v2[1]) * s), box.y);
    const int qx1 = std::min(box.x + 1 + round_to_int(std::max(v0[0], v2[0]) * s), box.x + box.width);
    const int qy1 = std::min(box.y + 1 + round_to_int(std::max(v0[1], v2[1]) * s), box.y + box.height);
    fill_rect(img, static_cast<float>(qx0), static_cast<float>(qy0), static_cast<float>(qx1),
              static_cast<float>(qy1), color);
  }
  return box;
}

void draw_box_label(Image& img, float x0, float y0, const std::string& text, Color background) {
  const TextBox box = text_box(0, 0, text, 1);
  const int x = std::max(round_to_int(x0), 0);
  int y = round_to_int(y0) - box.height;
  if (y < 0) y = std::max(round_to_int(y0), 0);
  // Dark text on light backgrounds, white on dark ones (BT.601 luma).
  const float luma = 0.299f * background.r + 0.587f * background.g + 0.114f * background.b;
  const Color ink = luma > 128 ? Color{0, 0, 0} : Color{255, 255, 255};
  draw_text(img, x, y, text, ink, background, 1);
}

}  // namespace dl
