#include "data/scenes.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "image/draw.h"
#include "image/transforms.h"
#include "util/files.h"
#include "util/mul_add.h"

namespace dl {

namespace {

uint8_t to_byte(float v) { return static_cast<uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f)); }

// HSV (all in [0, 1]) to RGB: lets us ask for "saturated and bright" (objects) or
// "dull" (backgrounds) colours directly.
Color hsv(float h, float s, float v) {
  const float hh = (h - std::floor(h)) * 6.0f;
  const int sector = std::min(static_cast<int>(hh), 5);
  const float f = hh - sector;
  const float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  float r = v, g = t, b = p;
  switch (sector) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
  }
  return Color{to_byte(255 * r), to_byte(255 * g), to_byte(255 * b)};
}

Color dull_color(Rng& rng) {
  return hsv(rng.uniform(), rng.uniform(0.0f, 0.6f), rng.uniform(0.15f, 0.85f));
}

Color any_color(Rng& rng) {
  return hsv(rng.uniform(), rng.uniform(0.0f, 1.0f), rng.uniform(0.1f, 1.0f));
}

// a + t (b - a) per channel, its multiply-add spelled out (util/mul_add.h): the bits
// the scenes were generated with, inlined or not.
Color lerp(Color a, Color b, float t) {
  auto mix = [t](uint8_t u, uint8_t v) {
    return to_byte(mul_add(t, static_cast<float>(v - u), static_cast<float>(u)));
  };
  return Color{mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

void set_pixel(Image& img, int x, int y, Color c) {
  img.at(x, y, 0) = c.r;
  img.at(x, y, 1) = c.g;
  img.at(x, y, 2) = c.b;
}

// Low-frequency colour noise: a coarse grid of random colours, resized bilinearly.
void smooth_noise(Image& img, Rng& rng) {
  const int g = static_cast<int>(rng.randint(2, 9));
  Image coarse(g, g, 3);
  for (int y = 0; y < g; ++y)
    for (int x = 0; x < g; ++x) set_pixel(coarse, x, y, dull_color(rng));
  img = resize_bilinear(coarse, img.width, img.height);
}

void gradient(Image& img, Rng& rng) {
  const Color c0 = dull_color(rng), c1 = dull_color(rng);
  const float angle = rng.uniform(0.0f, 6.2831853f);
  const float dx = std::cos(angle), dy = std::sin(angle);
  const float half = 0.5f * (std::abs(dx) * img.width + std::abs(dy) * img.height);
  uint8_t* dst = img.pixels.data();
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x, dst += 3) {
      // (x - cx) dx + (y - cy) dy, the first product fused (the bits the scenes were made with)
      const float d = mul_add(x + 0.5f - 0.5f * img.width, dx, (y + 0.5f - 0.5f * img.height) * dy);
      const Color c = lerp(c0, c1, std::clamp(0.5f + 0.5f * d / half, 0.0f, 1.0f));
      dst[0] = c.r;
      dst[1] = c.g;
      dst[2] = c.b;
    }
}

// A random square crop of a grey texture photograph, mapped between two dull colours.
void texture_crop(Image& img, const std::vector<Image>& textures, Rng& rng) {
  const Image& tex = textures[rng.below(static_cast<uint32_t>(textures.size()))];
  const int side = std::min(tex.width, tex.height);
  const int lo = std::max(8, std::min(side, std::min(img.width, img.height) / 2));
  const int hi = std::min(side, 2 * std::max(img.width, img.height));
  const int c = static_cast<int>(rng.randint(lo, std::max(lo, hi) + 1));
  const int x0 = static_cast<int>(rng.randint(0, tex.width - c + 1));
  const int y0 = static_cast<int>(rng.randint(0, tex.height - c + 1));
  const Image grey = warp_region(tex, float(x0), float(y0), float(x0 + c), float(y0 + c),
                                 img.width, img.height, {}, Border::Clamp);
  const Color c0 = dull_color(rng), c1 = dull_color(rng);
  // A grey level has one colour: map the 256 levels once, then look them up.
  Color ramp[256];
  for (int v = 0; v < 256; ++v) ramp[v] = lerp(c0, c1, v / 255.0f);
  uint8_t* dst = img.pixels.data();
  for (const uint8_t v : grey.pixels) {
    *dst++ = ramp[v].r;
    *dst++ = ramp[v].g;
    *dst++ = ramp[v].b;
  }
}

// Distractors: shapes that are not objects, so a detector must learn what clothes
// look like rather than "anything that is not background".
void clutter(Image& img, Rng& rng) {
  const int n = static_cast<int>(rng.below(8));
  const float s = static_cast<float>(std::min(img.width, img.height));
  for (int i = 0; i < n; ++i) {
    const Color c = any_color(rng);
    const float x = rng.uniform(0.0f, float(img.width)), y = rng.uniform(0.0f, float(img.height));
    const float alpha = rng.uniform(0.3f, 1.0f);
    switch (rng.below(3)) {
      case 0: fill_circle(img, x, y, rng.uniform(0.02f, 0.15f) * s, c, alpha); break;
      case 1: {
        const float a = rng.uniform(0.0f, 6.2831853f), len = rng.uniform(0.1f, 0.6f) * s;
        draw_line(img, x, y, x + len * std::cos(a), y + len * std::sin(a), c,
                  rng.uniform(1.0f, 0.05f * s + 1.0f));
        break;
      }
      default: {
        const float w = rng.uniform(0.04f, 0.25f) * s, h = rng.uniform(0.04f, 0.25f) * s;
        fill_rect(img, x, y, x + w, y + h, c, alpha);
      }
    }
  }
}

// Fine grey per-pixel noise (sensor noise) on some images, so flat regions aren't
// always flat. Kept weak and rare: noise is what makes PNGs large.
void pixel_noise(Image& img, Rng& rng) {
  if (!rng.bernoulli(0.3f)) return;
  const float amp = rng.uniform(2.0f, 10.0f);
  for (size_t i = 0; i + 2 < img.pixels.size(); i += 3) {
    const float d = rng.uniform(-amp, amp);
    for (int c = 0; c < 3; ++c) img.pixels[i + c] = to_byte(img.pixels[i + c] + d);
  }
}

struct PixelBox {
  int x0, y0, x1, y1;  // inclusive pixel range
};

double pixel_box_iou(const PixelBox& a, const PixelBox& b) {
  const int iw = std::min(a.x1, b.x1) - std::max(a.x0, b.x0) + 1;
  const int ih = std::min(a.y1, b.y1) - std::max(a.y0, b.y0) + 1;
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = double(iw) * ih;
  const double area_a = double(a.x1 - a.x0 + 1) * (a.y1 - a.y0 + 1);
  const double area_b = double(b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1);
  return inter / (area_a + area_b - inter);
}

// One Fashion-MNIST item, optionally mirrored, resized to size x size.
Image scaled_item(const FashionMnist& items, int64_t item, int size, bool flip) {
  Image src(items.cols, items.rows, 1);
  const uint8_t* p = items.image(item);
  for (int y = 0; y < items.rows; ++y)
    for (int x = 0; x < items.cols; ++x)
      src.at(flip ? items.cols - 1 - x : x, y) = p[y * items.cols + x];
  return resize_bilinear(src, size, size);
}

bool in_mask(uint8_t v) { return v > kMaskThreshold * 255.0f; }

// Placed but not yet finalised object.
struct Placed {
  SceneObject obj;
  Image alpha;      // the scaled item
  PixelBox box;        // tight box of its full (unoccluded) mask, image coordinates
  int64_t full_area = 0;
  Color tint;
};

}  // namespace

void validate(const SceneOptions& o) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.width < 16 || o.height < 16 || o.width > 4096 || o.height > 4096)
    fail("scene size must be within 16..4096 pixels");
  if (o.count < 0) fail("count must be >= 0");
  if (o.min_objects < 1 || o.max_objects < o.min_objects || o.max_objects > 64)
    fail("need 1 <= min-objects <= max-objects <= 64");
  if (!(o.min_scale >= 4.0f) || !(o.max_scale >= o.min_scale) ||
      o.max_scale > static_cast<float>(std::min(o.width, o.height)))
    fail("need 4 <= min-scale <= max-scale <= image size");
  if (!(o.max_overlap >= 0.0f && o.max_overlap <= 1.0f)) fail("max-overlap must be within 0..1");
  if (o.split != "train" && o.split != "test") fail("split must be 'train' or 'test'");
}

std::vector<Image> load_textures(const std::string& texture_dir) {
  std::vector<Image> out;
  for (const char* name : {"brick", "grass", "gravel"})
    out.push_back(load_image(texture_dir + "/" + name + ".png", 1));
  return out;
}

SceneSources load_scene_sources(const std::string& split, const std::string& fashion_dir,
                                const std::string& texture_dir) {
  if (split != "train" && split != "test")
    throw std::invalid_argument("split must be 'train' or 'test', not '" + split + "'");
  SceneSources s;
  s.items = load_fashion_mnist(fashion_dir, split);
  s.textures = load_textures(texture_dir);
  return s;
}

Image random_background(int width, int height, const std::vector<Image>& textures, Rng& rng) {
  Image img(width, height, 3);
  const uint32_t kinds = textures.empty() ? 3 : 4;
  switch (rng.below(kinds)) {
    case 0: smooth_noise(img, rng); break;
    case 1: gradient(img, rng); break;
    case 2: {
      const Color c = dull_color(rng);
      for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) set_pixel(img, x, y, c);
      break;
    }
    default: texture_crop(img, textures, rng);
  }
  clutter(img, rng);
  pixel_noise(img, rng);
  return img;
}

Scene generate_scene(const SceneOptions& o, const SceneSources& src, int64_t index) {
  validate(o);
  if (src.items.count <= 0) throw std::invalid_argument("generate_scene: no Fashion-MNIST items");
  const Rng base = Rng(o.seed).fork(static_cast<uint64_t>(index));
  // Separate streams, so e.g. a change in the background code keeps the objects.
  Rng bg_rng = base.fork(1), rng = base.fork(2), paint_rng = base.fork(3);

  Scene scene;
  scene.image = random_background(o.width, o.height, src.textures, bg_rng);
  const int W = o.width, H = o.height;
  const int target = o.single ? 1 : static_cast<int>(rng.randint(o.min_objects, o.max_objects + 1));

  // owner[p] = index of the topmost placed object whose mask covers pixel p, or -1.
  std::vector<int16_t> owner(static_cast<size_t>(W) * H, -1);
  std::vector<int64_t> visible;
  std::vector<Placed> placed;
  const int kAttempts = 30;
  for (int k = 0; k < target; ++k) {
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      Placed p;
      p.obj.item = rng.randint(0, src.items.count);
      p.obj.category_id = src.items.labels[p.obj.item] + 1;
      p.obj.size = static_cast<int>(std::lround(rng.uniform(o.min_scale, o.max_scale)));
      p.obj.size = std::clamp(p.obj.size, 1, std::min(W, H));
      p.obj.flipped = rng.bernoulli(0.5f);
      p.alpha = scaled_item(src.items, p.obj.item, p.obj.size, p.obj.flipped);
      PixelBox b{p.obj.size, p.obj.size, -1, -1};
      for (int y = 0; y < p.obj.size; ++y)
        for (int x = 0; x < p.obj.size; ++x)
          if (in_mask(p.alpha.at(x, y))) {
            b = PixelBox{std::min(b.x0, x), std::min(b.y0, y), std::max(b.x1, x), std::max(b.y1, y)};
            ++p.full_area;
          }
      if (p.full_area == 0) continue;  // too small to leave any pixel above threshold
      // Place so the tight box lies inside the image.
      p.obj.x = static_cast<int>(rng.randint(-b.x0, W - b.x1));
      p.obj.y = static_cast<int>(rng.randint(-b.y0, H - b.y1));
      p.box = PixelBox{b.x0 + p.obj.x, b.y0 + p.obj.y, b.x1 + p.obj.x, b.y1 + p.obj.y};
      bool ok = true;
      for (const Placed& q : placed) ok = ok && pixel_box_iou(p.box, q.box) <= o.max_overlap;
      if (!ok) continue;
      // Occlusion: how many visible pixels each earlier object would lose.
      std::vector<int64_t> lost(placed.size(), 0);
      for (int y = p.box.y0; y <= p.box.y1; ++y)
        for (int x = p.box.x0; x <= p.box.x1; ++x) {
          const int16_t w = owner[static_cast<size_t>(y) * W + x];
          if (w >= 0 && in_mask(p.alpha.at(x - p.obj.x, y - p.obj.y))) ++lost[w];
        }
      for (size_t j = 0; j < placed.size(); ++j)
        ok = ok && visible[j] - lost[j] >= kMinVisibleFraction * placed[j].full_area;
      if (!ok) continue;
      for (size_t j = 0; j < placed.size(); ++j) visible[j] -= lost[j];
      const int16_t me = static_cast<int16_t>(placed.size());
      for (int y = p.box.y0; y <= p.box.y1; ++y)
        for (int x = p.box.x0; x <= p.box.x1; ++x)
          if (in_mask(p.alpha.at(x - p.obj.x, y - p.obj.y))) owner[static_cast<size_t>(y) * W + x] = me;
      p.tint = hsv(paint_rng.uniform(), paint_rng.uniform(0.5f, 1.0f), paint_rng.uniform(0.7f, 1.0f));
      visible.push_back(p.full_area);
      placed.push_back(std::move(p));
      break;
    }
  }

  // Paint in order. The item's intensity is its alpha, through a ramp so that pixels
  // inside the mask are (nearly) opaque; the tint is shaded by the intensity so the
  // item's own texture (folds, prints) stays visible.
  // (The opacity and the shaded colour depend only on the item's byte: one table of 256
  // per object.)
  struct Paint {
    float alpha, rgb[3];
  };
  std::vector<Paint> paint(256);
  for (const Placed& p : placed) {
    for (int v = 1; v < 256; ++v) {
      const float a = v / 255.0f;
      const float shade = 0.45f + 0.55f * a;
      paint[v] = {std::clamp((a - 0.03f) / 0.2f, 0.0f, 1.0f),
                  {p.tint.r * shade, p.tint.g * shade, p.tint.b * shade}};
    }
    const int s = p.obj.size;
    for (int y = std::max(0, p.obj.y); y < std::min(H, p.obj.y + s); ++y)
      for (int x = std::max(0, p.obj.x); x < std::min(W, p.obj.x + s); ++x) {
        const uint8_t v = p.alpha.at(x - p.obj.x, y - p.obj.y);
        if (v == 0) continue;
        const Paint& q = paint[v];
        uint8_t* px = &scene.image.at(x, y, 0);
        // alpha * rgb + (1 - alpha) * px, the first product fused as GCC compiled it
        for (int c = 0; c < 3; ++c)
          px[c] = to_byte(mul_add(q.alpha, q.rgb[c], (1.0f - q.alpha) * px[c]));
      }
  }

  for (size_t j = 0; j < placed.size(); ++j) {
    SceneObject obj = placed[j].obj;
    obj.mask = Mask(H, W);
    for (size_t i = 0; i < owner.size(); ++i) obj.mask.data[i] = owner[i] == static_cast<int16_t>(j);
    obj.area = mask_area(obj.mask);
    obj.bbox = mask_bbox(obj.mask);
    scene.objects.push_back(std::move(obj));
  }
  return scene;
}

Image semantic_mask(const Scene& scene) {
  Image out(scene.image.width, scene.image.height, 1, 0);
  for (const SceneObject& o : scene.objects)
    for (size_t i = 0; i < o.mask.data.size(); ++i)
      if (o.mask.data[i]) out.pixels[i] = static_cast<uint8_t>(o.category_id);
  return out;
}

std::vector<CocoCategory> scene_categories() {
  std::vector<CocoCategory> cats;
  const auto& names = fashion_mnist_classes();
  for (size_t i = 0; i < names.size(); ++i) {
    CocoCategory c;
    c.id = static_cast<int64_t>(i) + 1;
    c.name = names[i];
    c.supercategory = "clothing";
    cats.push_back(c);
  }
  return cats;
}

std::vector<CocoAnnotation> scene_annotations(const Scene& scene, int64_t image_id) {
  std::vector<CocoAnnotation> out;
  for (const SceneObject& o : scene.objects) {
    CocoAnnotation a;
    a.image_id = image_id;
    a.category_id = o.category_id;
    a.bbox = o.bbox;
    a.area = static_cast<double>(o.area);
    a.iscrowd = false;
    a.segmentation.kind = CocoSegmentation::Kind::CompressedRle;
    a.segmentation.rle = rle_encode(o.mask);
    out.push_back(std::move(a));
  }
  return out;
}


std::string find_texture_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  if (fs::exists(dir) || fs::path(dir).is_absolute()) return dir;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = exe.parent_path().parent_path() / dir;
    if (fs::exists(beside)) return beside.string();
  }
  return dir;
}

}  // namespace dl
