// Image files through stb_image / stb_image_write. The header is inspected before
// decoding so that size limits are enforced without allocating the pixels.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "image/image.h"
#include "tensor/tensor.h"
#include "util/files.h"

// stb's internal asserts would abort the program on a corrupt file (Release builds have
// NDEBUG, so they are off there already); a corrupt file must end in an error message.
#define STBI_ASSERT(x) ((void)0)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb_image.h>
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace dl {

Image::Image(int w, int h, int c, uint8_t value) : width(w), height(h), channels(c) {
  check_shape(w >= 0 && h >= 0 && c >= 1 && c <= 4, "Image",
              "bad size " + std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(c));
  pixels.assign(static_cast<size_t>(w) * h * c, value);
}

namespace {
uint32_t be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }
uint32_t be32(const uint8_t* p) { return be16(p) << 16 | be16(p + 2); }
uint32_t le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }

// The width and height a PNG, JPEG or BMP header declares, read without stb: stb's info
// call gives up on sizes it would not decode (more than 2^30 bytes of pixels) and then
// only says "unknown image type", where the truth is "too large".
bool declared_size(const std::vector<uint8_t>& b, int64_t& w, int64_t& h) {
  const size_t n = b.size();
  if (n >= 24 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0 &&
      std::memcmp(b.data() + 12, "IHDR", 4) == 0) {
    w = be32(&b[16]);
    h = be32(&b[20]);
    return true;
  }
  if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
    w = static_cast<int32_t>(le32(&b[18]));
    h = static_cast<int32_t>(le32(&b[22]));
    h = h < 0 ? -h : h;  // negative: rows stored top-down
    return true;
  }
  if (n >= 4 && b[0] == 0xff && b[1] == 0xd8) {
    // Walk the marker segments to the frame header (SOF0..SOF15 except DHT, JPG, DAC).
    for (size_t at = 2; at + 4 <= n;) {
      if (b[at] != 0xff) return false;
      const uint8_t m = b[at + 1];
      if (m == 0xff) { ++at; continue; }  // fill byte
      const size_t len = be16(&b[at + 2]);
      if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
        if (at + 9 > n) return false;
        h = be16(&b[at + 5]);
        w = be16(&b[at + 7]);
        return true;
      }
      if (m == 0xd9 || m == 0xda || len < 2) return false;  // end, or scan data before a frame
      at += 2 + len;
    }
  }
  return false;
}
// Two JPEG Huffman-table faults that Debian 12's stb_image (2022-09) does not check, both
// found by fuzz_image, are refused here before stb sees the file:
// - a table (DHT segment) with more than 256 codes: stb writes one byte per code into a
//   257-byte array (later stb releases refuse such tables);
// - a scan that decodes with a table no DHT before it defined: stb's tables are
//   uninitialised heap memory until then, and decoding through one reads out of bounds
//   (libjpeg refuses such files: "Huffman table was not defined"). Which tables a scan
//   decodes with follows ITU T.81 (G.1.2): a sequential scan uses each component's DC and
//   AC table; a progressive DC scan uses the DC tables on its first pass (Ah = 0) only, a
//   progressive AC scan (Ss > 0) its component's AC table.
// Walks the segments as stb reads them: by length (bytes past the end read as 0, as stb's
// reader returns), and after a start of scan through the entropy-coded data to the next
// marker (FF, then neither 00 nor a restart marker D0..D7). Returns what is wrong, or "".
std::string jpeg_huffman_fault(const std::vector<uint8_t>& b) {
  const size_t n = b.size();
  auto at_or_0 = [&](size_t i) -> uint32_t { return i < n ? b[i] : 0; };
  size_t at = 0;  // stb takes FF...FF D8 as the start of image (FF is a fill byte)
  while (at < n && b[at] == 0xff) ++at;
  if (at == 0 || at >= n || b[at] != 0xd8) return "";  // not a JPEG
  ++at;
  bool progressive = false;
  unsigned defined[2] = {0, 0};  // bit t: DC (class 0) or AC (class 1) table t has been defined
  while (at + 4 <= n) {
    if (b[at] != 0xff) { ++at; continue; }  // padding: stb, too, scans on for a marker
    const uint8_t m = b[at + 1];
    if (m == 0xff) { ++at; continue; }
    if (m == 0xd9) return "";  // end of image
    const size_t len = be16(&b[at + 2]), end = at + 2 + len;
    if (m == 0xc0 || m == 0xc1 || m == 0xc2) progressive = m == 0xc2;
    if (m == 0xc4) {
      for (size_t t = at + 4; t < end && t < n;) {
        size_t codes = 0;
        for (size_t i = 1; i <= 16; ++i) codes += at_or_0(t + i);
        if (codes > 256) return "a Huffman table with more than 256 codes";
        const uint32_t cls = b[t] >> 4, id = b[t] & 15;
        if (cls <= 1 && id <= 3) defined[cls] |= 1u << id;  // stb refuses other ids itself
        t += 17 + codes;
      }
    }
    if (m == 0xda) {
      const uint32_t comps = at_or_0(at + 4);
      const size_t tail = at + 5 + 2 * size_t(comps);  // Ss, Se, Ah/Al follow the components
      const uint32_t ss = at_or_0(tail), ah = at_or_0(tail + 2) >> 4;
      const bool uses_dc = !progressive || (ss == 0 && ah == 0), uses_ac = !progressive || ss > 0;
      for (uint32_t i = 0; i < comps && i < 4; ++i) {
        const uint32_t tables = at_or_0(at + 6 + 2 * size_t(i)), dc = tables >> 4, ac = tables & 15;
        if (dc > 3 || ac > 3) break;  // stb refuses the scan itself
        if ((uses_dc && !(defined[0] >> dc & 1)) || (uses_ac && !(defined[1] >> ac & 1)))
          return "a scan uses a Huffman table that no DHT segment before it defines";
      }
    }
    at = end;
    // Entropy-coded data up to the next marker: as stb's reader, FF then (after more FF
    // fill bytes) 00 is a data byte and D0..D7 a restart; anything else ends the scan.
    while (m == 0xda && at < n) {
      if (b[at] != 0xff) { ++at; continue; }
      size_t last = at;
      while (last + 1 < n && b[last + 1] == 0xff) ++last;
      if (last + 1 >= n) return "";
      const uint8_t c = b[last + 1];
      if (c != 0 && (c < 0xd0 || c > 0xd7)) { at = last; break; }
      at = last + 2;
    }
  }
  return "";
}
// stb_image grows its buffer to an IDAT chunk's declared length (up to 1 GB) before
// reading the chunk, so a 100-byte PNG could make it allocate a gigabyte (fuzz_image found
// it). A chunk longer than the rest of the file can only end in stb's "outofdata" error;
// it is refused before the allocation instead.
bool png_chunks_fit(const std::vector<uint8_t>& b) {
  if (b.size() < 8 || std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) != 0) return true;
  for (size_t at = 8; at + 8 <= b.size();) {
    const uint64_t len = be32(&b[at]);
    if (std::memcmp(&b[at + 4], "IDAT", 4) == 0 && len > b.size() - at - 8) return false;
    at += 12 + len;
  }
  return true;
}
}  // namespace

Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name, int channels,
                   int64_t max_pixels) {
  if (channels < 0 || channels > 4 || channels == 2)
    throw FileError(name, "can only convert to 1, 3 or 4 channels, asked for " +
                              std::to_string(channels));
  if (bytes.empty()) throw FileError(name, "empty file, not an image");
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) throw FileError(name, "file too large");
  const auto* data = bytes.data();
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, c = 0;
  if (const std::string fault = jpeg_huffman_fault(bytes); !fault.empty())
    throw FileError(name, "corrupt JPEG (" + fault + ")");
  if (!png_chunks_fit(bytes)) throw FileError(name, "truncated PNG (an IDAT chunk runs past the end)");
  if (!stbi_info_from_memory(data, len, &w, &h, &c)) {
    int64_t dw = 0, dh = 0;
    if (declared_size(bytes, dw, dh) && dw > 0 && dh > max_pixels / dw)  // dw * dh > max
      throw FileError(name, "image is " + std::to_string(dw) + "x" + std::to_string(dh) +
                                ", over the limit of " + std::to_string(max_pixels) + " pixels");
    throw FileError(name, std::string("not a PNG/JPEG/BMP image (") + stbi_failure_reason() + ")");
  }
  if (w <= 0 || h <= 0) throw FileError(name, "image has zero width or height");
  if (static_cast<int64_t>(w) * h > max_pixels)
    throw FileError(name, "image is " + std::to_string(w) + "x" + std::to_string(h) +
                              ", over the limit of " + std::to_string(max_pixels) + " pixels");
  const int want = channels == 0 ? c : channels;
  uint8_t* px = stbi_load_from_memory(data, len, &w, &h, &c, want);
  if (!px) throw FileError(name, std::string("cannot decode image (") + stbi_failure_reason() + ")");
  Image img;
  img.width = w;
  img.height = h;
  img.channels = want;
  img.pixels.assign(px, px + static_cast<size_t>(w) * h * want);
  stbi_image_free(px);
  return img;
}

Image load_image(const std::string& path, int channels, int64_t max_pixels) {
  return decode_image(read_file_bytes(path), path, channels, max_pixels);
}

Image load_grey(const std::string& path) {
  if (std::filesystem::path(path).extension() != ".pgm") return load_image(path, 1);
  auto bytes = read_file_bytes(path, 1 << 26);
  std::string head(bytes.begin(), bytes.begin() + std::min<size_t>(bytes.size(), 64));
  int w = 0, h = 0, maxv = 0, used = 0;
  if (std::sscanf(head.c_str(), "P5 %d %d %d%n", &w, &h, &maxv, &used) != 3 || w <= 0 || h <= 0 ||
      w > 8192 || h > 8192 || maxv != 255)
    throw FileError(path, "not an 8-bit binary PGM (P5) file");
  const size_t start = static_cast<size_t>(used) + 1;
  if (bytes.size() < start + size_t(w) * h) throw FileError(path, "truncated PGM pixel data");
  Image img(w, h, 1);
  std::copy(bytes.begin() + start, bytes.begin() + start + size_t(w) * h, img.pixels.begin());
  return img;
}

namespace {
void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

std::string lower_extension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext;
}
}  // namespace

void save_image(const std::string& path, const Image& img, int jpeg_quality) {
  if (img.width <= 0 || img.height <= 0 || img.channels < 1 || img.channels > 4 ||
      img.pixels.size() != static_cast<size_t>(img.width) * img.height * img.channels)
    throw FileError(path, "cannot save an empty or inconsistent image (" +
                              std::to_string(img.width) + "x" + std::to_string(img.height) + "x" +
                              std::to_string(img.channels) + ")");
  const std::string ext = lower_extension(path);
  std::vector<uint8_t> bytes;
  int ok = 0;
  if (ext == "png") {
    ok = stbi_write_png_to_func(append_bytes, &bytes, img.width, img.height, img.channels,
                                img.pixels.data(), img.width * img.channels);
  } else if (ext == "jpg" || ext == "jpeg") {
    const int q = jpeg_quality < 1 ? 1 : (jpeg_quality > 100 ? 100 : jpeg_quality);
    ok = stbi_write_jpg_to_func(append_bytes, &bytes, img.width, img.height, img.channels,
                                img.pixels.data(), q);
  } else {
    throw FileError(path, "unknown image extension '" + ext + "' (use .png or .jpg)");
  }
  if (!ok || bytes.empty()) throw FileError(path, "image encoder failed");
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace dl
