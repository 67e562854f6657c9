// The Image: 8-bit pixels stored row by row, channels interleaved (HWC), the layout
// every image file and stb use. Networks want CHW floats: see transforms.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dl {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 (grey), 3 (RGB) or 4 (RGBA)
  std::vector<uint8_t> pixels;  // height * width * channels bytes

  Image() = default;
  // Filled with `value` in every channel.
  Image(int width, int height, int channels, uint8_t value = 0);

  bool empty() const { return pixels.empty(); }
  size_t index(int x, int y, int c = 0) const {
    return (static_cast<size_t>(y) * width + x) * channels + c;
  }
  uint8_t& at(int x, int y, int c = 0) { return pixels[index(x, y, c)]; }
  uint8_t at(int x, int y, int c = 0) const { return pixels[index(x, y, c)]; }
  bool contains(int x, int y) const { return x >= 0 && y >= 0 && x < width && y < height; }
};

// ---- files (image_io.cpp) -------------------------------------------------------
// Images larger than this many pixels are refused before decoding, so a hostile or
// corrupt header cannot make us allocate gigabytes.
constexpr int64_t kDefaultMaxPixels = 8192ll * 8192ll;

// Loads PNG, JPEG or BMP (anything stb_image decodes). `channels` = 0 keeps the
// file's own channel count, otherwise converts to 1, 3 or 4. Throws FileError for a
// missing, empty, corrupt, truncated or too-large file.
Image load_image(const std::string& path, int channels = 3,
                 int64_t max_pixels = kDefaultMaxPixels);
// A grey image (1 channel): binary PGM (P5, 8-bit, by the .pgm extension), handy for
// Fashion-MNIST items dumped from the idx files; everything else goes through
// load_image (PNG/JPEG/BMP). Throws FileError for a bad or truncated PGM.
Image load_grey(const std::string& path);
// The same from bytes in memory; `name` is used in error messages.
Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name, int channels = 3,
                   int64_t max_pixels = kDefaultMaxPixels);

// Saves by extension: .png (lossless) or .jpg/.jpeg (quality 1..100). Written to a
// temporary name then renamed. Throws FileError on failure or an unknown extension.
void save_image(const std::string& path, const Image& img, int jpeg_quality = 92);

}  // namespace dl
