#include "proposals/color_spaces.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "tensor/tensor.h"

namespace dl {

const char* color_space_name(ColorSpace cs) {
  switch (cs) {
    case ColorSpace::RGB: return "RGB";
    case ColorSpace::Intensity: return "I";
    case ColorSpace::Lab: return "Lab";
    case ColorSpace::rgI: return "rgI";
    case ColorSpace::HSV: return "HSV";
    case ColorSpace::Hue: return "H";
  }
  return "?";
}

ColorSpace parse_color_space(const std::string& name) {
  for (ColorSpace cs : {ColorSpace::RGB, ColorSpace::Intensity, ColorSpace::Lab, ColorSpace::rgI,
                        ColorSpace::HSV, ColorSpace::Hue})
    if (name == color_space_name(cs)) return cs;
  throw std::invalid_argument("unknown colour space '" + name +
                              "' (expected RGB, I, Lab, rgI, HSV or H)");
}

int color_space_channels(ColorSpace cs) {
  return cs == ColorSpace::Intensity || cs == ColorSpace::Hue ? 1 : 3;
}

std::array<float, 3> rgb_to_hsv(float r, float g, float b) {
  const float mx = std::max({r, g, b}), mn = std::min({r, g, b}), d = mx - mn;
  float h = 0;
  if (d > 0) {
    if (mx == r) h = (g - b) / d;
    else if (mx == g) h = 2 + (b - r) / d;
    else h = 4 + (r - g) / d;
    h /= 6;
    if (h < 0) h += 1;
    if (h >= 1) h -= 1;
  }
  return {h, mx > 0 ? d / mx : 0.0f, mx};
}

namespace {

// sRGB transfer function inverse (IEC 61966-2-1).
float srgb_to_linear(float c) {
  return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f);
}

// CIE 1976 f(t): cube root above (6/29)^3, linear below.
float lab_f(float t) {
  constexpr float d = 6.0f / 29.0f;
  return t > d * d * d ? std::cbrt(t) : t / (3 * d * d) + 4.0f / 29.0f;
}

std::array<float, 3> linear_to_lab(float r, float g, float b) {
  // sRGB primaries -> XYZ, normalised by the D65 white (0.95047, 1, 1.08883).
  const float x = (0.4124564f * r + 0.3575761f * g + 0.1804375f * b) / 0.95047f;
  const float y = 0.2126729f * r + 0.7151522f * g + 0.0721750f * b;
  const float z = (0.0193339f * r + 0.1191920f * g + 0.9503041f * b) / 1.08883f;
  const float fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
  return {116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)};
}

}  // namespace

std::array<float, 3> rgb_to_lab(float r, float g, float b) {
  return linear_to_lab(srgb_to_linear(r), srgb_to_linear(g), srgb_to_linear(b));
}

std::array<float, 3> rgb_to_rgi(float r, float g, float b) {
  const float s = r + g + b;
  if (s <= 0) return {1.0f / 3, 1.0f / 3, 0.0f};
  return {r / s, g / s, s / 3};
}

float rgb_to_intensity(float r, float g, float b) { return (r + g + b) / 3; }

FloatImage convert_color_space(const Image& rgb, ColorSpace cs) {
  if (rgb.channels != 3)
    throw ShapeError("convert_color_space: expected an RGB image, got " +
                     std::to_string(rgb.channels) + " channels");
  FloatImage out;
  out.width = rgb.width;
  out.height = rgb.height;
  out.channels = color_space_channels(cs);
  const size_t n = static_cast<size_t>(rgb.width) * rgb.height;
  out.data.assign(n * out.channels, 0.0f);
  // Pixels are bytes: decode the sRGB curve once per value, not once per pixel.
  float linear[256];
  for (int v = 0; v < 256; ++v) linear[v] = srgb_to_linear(v / 255.0f);
  float* p0 = out.plane(0);
  float* p1 = out.channels > 1 ? out.plane(1) : nullptr;
  float* p2 = out.channels > 2 ? out.plane(2) : nullptr;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* px = &rgb.pixels[3 * i];
    const float r = px[0] / 255.0f, g = px[1] / 255.0f, b = px[2] / 255.0f;
    switch (cs) {
      case ColorSpace::RGB:
        p0[i] = r, p1[i] = g, p2[i] = b;
        break;
      case ColorSpace::Intensity:
        p0[i] = rgb_to_intensity(r, g, b);
        break;
      case ColorSpace::Lab: {
        const auto lab = linear_to_lab(linear[px[0]], linear[px[1]], linear[px[2]]);
        p0[i] = lab[0] / 100;
        p1[i] = std::clamp((lab[1] + 128) / 255, 0.0f, 1.0f);
        p2[i] = std::clamp((lab[2] + 128) / 255, 0.0f, 1.0f);
        break;
      }
      case ColorSpace::rgI: {
        const auto v = rgb_to_rgi(r, g, b);
        p0[i] = v[0], p1[i] = v[1], p2[i] = v[2];
        break;
      }
      case ColorSpace::HSV: {
        const auto v = rgb_to_hsv(r, g, b);
        p0[i] = v[0], p1[i] = v[1], p2[i] = v[2];
        break;
      }
      case ColorSpace::Hue:
        p0[i] = rgb_to_hsv(r, g, b)[0];
        break;
    }
  }
  return out;
}

}  // namespace dl
