// Resize, crop, pad and warps all reduce to one bilinear sampler over a mapped
// region, so their conventions (half-pixel centres, border handling) agree.
#include "image/transforms.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "util/mul_add.h"

namespace dl {

namespace {
uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also maps NaN to 0
  if (v >= 255.0f) return 255;
  return static_cast<uint8_t>(v + 0.5f);
}

uint8_t fill_value(const std::vector<uint8_t>& fill, int c) {
  if (fill.empty()) return 0;
  return fill[std::min<size_t>(c, fill.size() - 1)];
}

// The bilinear blend (1-ay) [(1-ax) p00 + ax p10] + ay [(1-ax) p01 + ax p11] with its
// roundings written out (util/mul_add.h): the per-sample warp (before the fast path)
// fused differently on its Border::Clamp branch than on its Border::Constant one, and
// spelling the fused multiply-adds out keeps exactly those bits (so every scene and
// model made so far is reproduced, tools/check/same_results.sh).
// The blend's three parts, shared by sample_bilinear and warp_region's row cache: the
// top row's horizontal mix (its rounding order depends on the border), the bottom row's,
// and the vertical mix of the two.
float mix_top(float p00, float p10, float ax, Border border) {
  const float bx = 1 - ax;
  return border == Border::Clamp ? mul_add(bx, p00, ax * p10) : mul_add(ax, p10, bx * p00);
}
float mix_bottom(float p01, float p11, float ax) { return mul_add(ax, p11, (1 - ax) * p01); }
float mix_rows(float top, float bottom, float ay) { return mul_add(1 - ay, top, ay * bottom); }

float bilinear_blend(float p00, float p10, float p01, float p11, float ax, float ay,
                     Border border) {
  return mix_rows(mix_top(p00, p10, ax, border), mix_bottom(p01, p11, ax), ay);
}

void check_out_size(int w, int h, const char* op) {
  check_shape(w > 0 && h > 0, op,
              "output size must be positive, got " + std::to_string(w) + "x" + std::to_string(h));
}
}  // namespace

float sample_bilinear(const Image& img, float x, float y, int c, Border border, float fill) {
  // Move to index space (pixel centres at integers), find the 4 neighbours.
  const float fx = x - 0.5f, fy = y - 0.5f;
  const int ix = static_cast<int>(std::floor(fx)), iy = static_cast<int>(std::floor(fy));
  const float ax = fx - ix, ay = fy - iy;
  auto px = [&](int xx, int yy) -> float {
    if (border == Border::Clamp) {
      xx = std::clamp(xx, 0, img.width - 1);
      yy = std::clamp(yy, 0, img.height - 1);
    } else if (!img.contains(xx, yy)) {
      return fill;
    }
    return img.at(xx, yy, c);
  };
  return bilinear_blend(px(ix, iy), px(ix + 1, iy), px(ix, iy + 1), px(ix + 1, iy + 1), ax, ay,
                        border);
}

namespace {
// Where one output column (or row) of a warp samples: its two neighbours' indices and
// the weight of the second -- the numbers sample_bilinear derives per pixel and per
// channel, derived here once per column and once per row. `lo`/`hi` are clamped to the
// image (Border::Clamp) or -1 when outside it (Border::Constant: read the fill).
struct AxisTap {
  int lo, hi;
  float a;
};

std::vector<AxisTap> axis_taps(float start, float step, int out, int size, Border border) {
  auto index = [&](int k) {
    if (border == Border::Clamp) return std::clamp(k, 0, size - 1);
    return k >= 0 && k < size ? k : -1;
  };
  std::vector<AxisTap> taps(static_cast<size_t>(out));
  for (int o = 0; o < out; ++o) {
    // Term for term what warp_region_reference and sample_bilinear compute.
    const float x = mul_add(o + 0.5f, step, start);
    const float f = x - 0.5f;
    const int i = static_cast<int>(std::floor(f));
    taps[o] = {index(i), index(i + 1), f - i};
  }
  return taps;
}
}  // namespace

// The fast path of warp_region_reference (transforms_reference.cpp): the same sums in
// the same order, with the floor, the border test and the fill lookup moved out of the
// per-sample work; tests/test_image.cpp checks the bytes are identical.
//
// The blend is separable: an output row mixes the horizontal interpolations of two
// source rows ("top" and "bottom", each with its own rounding order, bilinear_blend).
// Those two rows of horizontal values are kept while consecutive output rows read the
// same source rows -- when up-sampling, most of them do (a 28x28 item drawn at 100
// pixels, an 8x8 colour grid stretched to a scene) -- so only the vertical mix is done
// per output row.
Image warp_region(const Image& img, float x0, float y0, float x1, float y1, int out_w, int out_h,
                  const std::vector<uint8_t>& fill, Border border) {
  check_out_size(out_w, out_h, "warp_region");
  check_shape(!img.empty(), "warp_region", "empty input image");
  const int C = img.channels;
  Image out(out_w, out_h, C);
  const float sx = (x1 - x0) / out_w, sy = (y1 - y0) / out_h;
  const std::vector<AxisTap> xs = axis_taps(x0, sx, out_w, img.width, border);
  const std::vector<AxisTap> ys = axis_taps(y0, sy, out_h, img.height, border);
  std::vector<float> fills(static_cast<size_t>(C));
  for (int c = 0; c < C; ++c) fills[c] = fill_value(fill, c);
  const size_t row_bytes = static_cast<size_t>(img.width) * C;
  const size_t row_values = static_cast<size_t>(out_w) * C;
  // One source row (or the fill, for a row outside the image) interpolated along x in
  // the rounding order of the blend's top or bottom term.
  auto horizontal = [&](int y, bool top, float* dst) {
    const uint8_t* row = y >= 0 ? img.pixels.data() + y * row_bytes : nullptr;
    for (int ox = 0; ox < out_w; ++ox) {
      const AxisTap tx = xs[ox];
      for (int c = 0; c < C; ++c) {
        const float f = fills[c];
        const float p0 = row && tx.lo >= 0 ? row[static_cast<size_t>(tx.lo) * C + c] : f;
        const float p1 = row && tx.hi >= 0 ? row[static_cast<size_t>(tx.hi) * C + c] : f;
        dst[static_cast<size_t>(ox) * C + c] =
            top ? mix_top(p0, p1, tx.a, border) : mix_bottom(p0, p1, tx.a);
      }
    }
  };
  // Output rows split into contiguous blocks, one per thread when the image is large;
  // each block keeps its own pair of cached rows.
  const int blocks = static_cast<int64_t>(out_w) * out_h > (1 << 16) ? 8 : 1;
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int b = 0; b < blocks; ++b) {
    std::vector<float> top(row_values), bottom(row_values);
    int top_row = -2, bottom_row = -2;  // source row held in top/bottom (-1: the fill)
    for (int oy = b * out_h / blocks; oy < (b + 1) * out_h / blocks; ++oy) {
      const AxisTap ty = ys[oy];
      if (ty.lo != top_row) horizontal(top_row = ty.lo, true, top.data());
      if (ty.hi != bottom_row) horizontal(bottom_row = ty.hi, false, bottom.data());
      uint8_t* dst = out.pixels.data() + static_cast<size_t>(oy) * row_values;
      for (size_t i = 0; i < row_values; ++i) dst[i] = to_byte(mix_rows(top[i], bottom[i], ty.a));
    }
  }
  return out;
}

Image resize_bilinear(const Image& img, int out_w, int out_h) {
  return warp_region(img, 0.0f, 0.0f, static_cast<float>(img.width),
                     static_cast<float>(img.height), out_w, out_h, {}, Border::Clamp);
}

Image shrink_to_fit(const Image& img, int max_side) {
  const int64_t W = img.width, H = img.height, longer = std::max(W, H);
  if (longer <= max_side) return img;
  const int w = static_cast<int>(std::max<int64_t>(1, (W * max_side + longer / 2) / longer));
  const int h = static_cast<int>(std::max<int64_t>(1, (H * max_side + longer / 2) / longer));
  Image out(w, h, img.channels);
  const int C = img.channels;
  std::vector<uint64_t> sum(static_cast<size_t>(C));
  for (int y = 0; y < h; ++y) {
    const int64_t sy0 = y * H / h, sy1 = std::max(sy0 + 1, (y + 1) * H / h);
    for (int x = 0; x < w; ++x) {
      const int64_t sx0 = x * W / w, sx1 = std::max(sx0 + 1, (x + 1) * W / w);
      std::fill(sum.begin(), sum.end(), 0);
      for (int64_t sy = sy0; sy < sy1; ++sy)
        for (int64_t sx = sx0; sx < sx1; ++sx)
          for (int c = 0; c < C; ++c) sum[c] += img.at(static_cast<int>(sx), static_cast<int>(sy), c);
      const uint64_t n = static_cast<uint64_t>((sy1 - sy0) * (sx1 - sx0));
      for (int c = 0; c < C; ++c) out.at(x, y, c) = static_cast<uint8_t>((sum[c] + n / 2) / n);
    }
  }
  return out;
}

Image crop(const Image& img, int x, int y, int w, int h, const std::vector<uint8_t>& fill) {
  check_out_size(w, h, "crop");
  Image out(w, h, img.channels);
  for (int oy = 0; oy < h; ++oy)
    for (int ox = 0; ox < w; ++ox)
      for (int c = 0; c < img.channels; ++c)
        out.at(ox, oy, c) =
            img.contains(x + ox, y + oy) ? img.at(x + ox, y + oy, c) : fill_value(fill, c);
  return out;
}

Image pad(const Image& img, int left, int top, int right, int bottom,
          const std::vector<uint8_t>& fill) {
  check_shape(left >= 0 && top >= 0 && right >= 0 && bottom >= 0, "pad",
              "pad amounts must be non-negative");
  return crop(img, -left, -top, img.width + left + right, img.height + top + bottom, fill);
}

std::vector<uint8_t> image_mean(const Image& img) {
  std::vector<uint8_t> mean(img.channels, 0);
  const size_t n = static_cast<size_t>(img.width) * img.height;
  if (n == 0) return mean;
  for (int c = 0; c < img.channels; ++c) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; ++i) s += img.pixels[i * img.channels + c];
    mean[c] = static_cast<uint8_t>((s + n / 2) / n);
  }
  return mean;
}

Image warp_box_with_context(const Image& img, float x0, float y0, float x1, float y1,
                            int out_size, int context, const std::vector<uint8_t>& fill) {
  check_shape(out_size > 2 * context && context >= 0, "warp_box_with_context",
              "out_size " + std::to_string(out_size) + " must exceed 2 * context " +
                  std::to_string(context));
  // The box maps onto the inner (out_size - 2p) pixels; p output pixels of context
  // correspond to p * (box size / inner size) input pixels on each side.
  const float inner = static_cast<float>(out_size - 2 * context);
  const float bw = std::max(x1 - x0, 1.0f), bh = std::max(y1 - y0, 1.0f);
  const float px = context * bw / inner, py = context * bh / inner;
  return warp_region(img, x0 - px, y0 - py, x0 + bw + px, y0 + bh + py, out_size, out_size, fill,
                     Border::Constant);
}

Tensor image_to_tensor(const Image& img, float scale) {
  check_shape(!img.empty(), "image_to_tensor", "empty image");
  const int C = img.channels, H = img.height, W = img.width;
  Tensor t({C, H, W});
  float* d = t.data();
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        d[(static_cast<int64_t>(c) * H + y) * W + x] = img.at(x, y, c) * scale;
  return t;
}

Image tensor_to_image(const Tensor& chw, float scale) {
  check_shape(chw.dim() == 3 && (chw.size(0) == 1 || chw.size(0) == 3 || chw.size(0) == 4),
              "tensor_to_image", "expects [C, H, W] with C in {1, 3, 4}, got " + chw.shape_str());
  const int C = static_cast<int>(chw.size(0)), H = static_cast<int>(chw.size(1)),
            W = static_cast<int>(chw.size(2));
  Image img(W, H, C);
  const float* d = chw.data();
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        img.at(x, y, c) = to_byte(d[(static_cast<int64_t>(c) * H + y) * W + x] * scale);
  return img;
}

Tensor images_to_batch(const std::vector<Image>& images, float scale) {
  check_shape(!images.empty(), "images_to_batch", "no images");
  const Image& first = images[0];
  const int64_t per = static_cast<int64_t>(first.channels) * first.height * first.width;
  Tensor batch({static_cast<int64_t>(images.size()), first.channels, first.height, first.width});
  for (size_t i = 0; i < images.size(); ++i) {
    const Image& im = images[i];
    check_shape(im.width == first.width && im.height == first.height &&
                    im.channels == first.channels,
                "images_to_batch",
                "image " + std::to_string(i) + " is " + std::to_string(im.width) + "x" +
                    std::to_string(im.height) + "x" + std::to_string(im.channels) +
                    ", image 0 is " + std::to_string(first.width) + "x" +
                    std::to_string(first.height) + "x" + std::to_string(first.channels));
    Tensor one = image_to_tensor(im, scale);
    std::copy(one.begin(), one.end(), batch.data() + i * per);
  }
  return batch;
}

void normalize_channels_(Tensor& t, const std::vector<float>& mean,
                         const std::vector<float>& std) {
  check_shape(t.dim() == 3 || t.dim() == 4, "normalize_channels_",
              "expects [C, H, W] or [N, C, H, W], got " + t.shape_str());
  const int64_t C = t.size(-3), HW = t.size(-2) * t.size(-1);
  const int64_t N = t.dim() == 4 ? t.size(0) : 1;
  check_shape(static_cast<int64_t>(mean.size()) == C && static_cast<int64_t>(std.size()) == C,
              "normalize_channels_", "need one mean and std per channel (" + std::to_string(C) + ")");
  for (int64_t c = 0; c < C; ++c)
    check_shape(std[c] != 0.0f, "normalize_channels_", "std must be non-zero");
  float* d = t.data();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      float* p = d + (n * C + c) * HW;
      const float m = mean[c], inv = 1.0f / std[c];
      for (int64_t i = 0; i < HW; ++i) p[i] = (p[i] - m) * inv;
    }
}

Tensor hflip(const Tensor& t) {
  check_shape(t.dim() >= 2, "hflip", "needs [..., H, W]");
  const int64_t W = t.size(-1), rows = t.numel() / std::max<int64_t>(1, W);
  Tensor f(t.shape());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t x = 0; x < W; ++x) f[r * W + x] = t[r * W + (W - 1 - x)];
  return f;
}

}  // namespace dl
