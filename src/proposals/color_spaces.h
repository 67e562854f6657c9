// The colour spaces Selective Search diversifies over (Uijlings et al., IJCV 2013,
// §3.4 and Table 1): each has different invariances (to shadows, highlights, intensity),
// so grouping in several of them finds objects that one alone would miss.
//   RGB        no invariance
//   Intensity  I = (R + G + B) / 3, one channel
//   Lab        perceptual lightness L and colour-opponent a, b (CIE 1976, D65 white)
//   rgI        normalised r = R/(R+G+B), g = G/(R+G+B), plus I: r, g ignore shading
//   HSV        hue, saturation, value
//   Hue        the H channel of HSV alone: invariant to shadows and highlights
// Every converted channel is scaled to [0, 1], so one histogram range (25 bins over
// [0, 1]) and one segmentation threshold scale serve all of them.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "image/image.h"

namespace dl {

enum class ColorSpace { RGB, Intensity, Lab, rgI, HSV, Hue };

const char* color_space_name(ColorSpace cs);  // "RGB", "I", "Lab", "rgI", "HSV", "H"
// Accepts the names above; throws std::invalid_argument for anything else.
ColorSpace parse_color_space(const std::string& name);
int color_space_channels(ColorSpace cs);      // 3, or 1 for Intensity and Hue

// A planar (CHW) float image: channel c is data[c * width * height ...].
struct FloatImage {
  int width = 0, height = 0, channels = 0;
  std::vector<float> data;
  float* plane(int c) { return data.data() + static_cast<size_t>(c) * width * height; }
  const float* plane(int c) const {
    return data.data() + static_cast<size_t>(c) * width * height;
  }
};

// ---- single pixels; r, g, b in [0, 1] ----------------------------------------------
// H in [0, 1) (degrees / 360; 0 for grey), S and V in [0, 1].
std::array<float, 3> rgb_to_hsv(float r, float g, float b);
// sRGB (gamma-encoded) -> CIE L*a*b* with the D65 white point: L in [0, 100], a and b
// roughly in [-128, 127] (their unscaled values).
std::array<float, 3> rgb_to_lab(float r, float g, float b);
// (r, g, I): r = R/(R+G+B), g = G/(R+G+B) (1/3 each for black), I = (R+G+B)/3.
std::array<float, 3> rgb_to_rgi(float r, float g, float b);
float rgb_to_intensity(float r, float g, float b);  // (R + G + B) / 3

// A whole RGB image (3 channels; ShapeError otherwise) in colour space `cs`, every
// channel scaled to [0, 1] (Lab: L/100, (a+128)/255, (b+128)/255).
FloatImage convert_color_space(const Image& rgb, ColorSpace cs);

}  // namespace dl
