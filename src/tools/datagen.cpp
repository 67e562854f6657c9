// datagen: detlab's deterministic data generator.
//   bin/datagen scenes --out DIR [...]   Fashion-MNIST detection scenes: DIR/images/*.png,
//                                        DIR/masks/*.png (pixel = category id, 0 background),
//                                        DIR/annotations.json (COCO, RLE masks)
//   bin/datagen figures --out DIR [...]  14-joint pose figures: DIR/images/*.png,
//                                        DIR/annotations.json (COCO keypoints)
//   bin/datagen show FILE.json --images DIR --out DIR
//                                        boxes, labels, masks and skeletons drawn over
//                                        the images, to check a data set by eye
// The same seed gives the same bytes for any --threads.
#include <fmt/core.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "data/coco.h"
#include "data/figures.h"
#include "data/rle.h"
#include "data/scenes.h"
#include "image/draw.h"
#include "image/image.h"
#include "lessons/common/cli.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
namespace fs = std::filesystem;

namespace {

std::string image_name(int64_t id) { return fmt::format("{:06d}.png", id); }

// Runs body(i) for i in [0, n) on all threads. Exceptions cannot leave an OpenMP
// region, so each is caught and the one with the lowest index rethrown afterwards
// (the same error whatever the thread count).
template <class Body>
void parallel_items(int64_t n, const Body& body) {
  std::vector<std::string> errors(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (const std::exception& e) {
      errors[i] = e.what();
      if (errors[i].empty()) errors[i] = "unknown error";
    }
  }
  for (const std::string& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
}

struct GenArgs {
  std::string out, data = kFashionMnistDir, textures = kTextureDir;
  int threads = 0;
  bool quiet = false;
};

int cmd_scenes(const SceneOptions& o, const GenArgs& g) {
  const auto t0 = Clock::now();
  const SceneSources src = load_scene_sources(o.split, g.data, g.textures);
  const fs::path out(g.out);
  fs::create_directories(out / "images");
  fs::create_directories(out / "masks");
  std::vector<std::vector<CocoAnnotation>> anns(static_cast<size_t>(o.count));
  const auto t1 = Clock::now();
  parallel_items(o.count, [&](int64_t i) {
    const Scene s = generate_scene(o, src, i);
    save_image((out / "images" / image_name(i + 1)).string(), s.image);
    save_image((out / "masks" / image_name(i + 1)).string(), semantic_mask(s));
    anns[i] = scene_annotations(s, i + 1);
  });
  CocoDataset d;
  d.categories = scene_categories();
  int64_t next_id = 1;
  for (int64_t i = 0; i < o.count; ++i) {
    d.images.push_back(CocoImage{i + 1, image_name(i + 1), o.width, o.height});
    for (CocoAnnotation& a : anns[i]) {
      a.id = next_id++;
      d.annotations.push_back(std::move(a));
    }
  }
  write_coco((out / "annotations.json").string(), d);
  const double gen = seconds_since(t1), total = seconds_since(t0);
  if (!g.quiet)
    fmt::print("scenes: {} images, {} objects ({} split) -> {} in {:.2f} s ({:.0f} images/s "
               "generating + writing)\n",
               o.count, d.annotations.size(), o.split, g.out, total,
               o.count / std::max(gen, 1e-9));
  return 0;
}

int cmd_figures(const FigureOptions& o, const GenArgs& g) {
  const auto t0 = Clock::now();
  const std::vector<Image> textures = load_textures(g.textures);
  const fs::path out(g.out);
  fs::create_directories(out / "images");
  std::vector<CocoAnnotation> anns(static_cast<size_t>(o.count));
  const auto t1 = Clock::now();
  parallel_items(o.count, [&](int64_t i) {
    const Figure f = generate_figure(o, textures, i);
    save_image((out / "images" / image_name(i + 1)).string(), f.image);
    anns[i] = figure_annotation(f, i + 1);
  });
  CocoDataset d;
  d.categories = {figure_category()};
  for (int64_t i = 0; i < o.count; ++i) {
    d.images.push_back(CocoImage{i + 1, image_name(i + 1), o.width, o.height});
    anns[i].id = i + 1;
    d.annotations.push_back(std::move(anns[i]));
  }
  write_coco((out / "annotations.json").string(), d);
  const double gen = seconds_since(t1), total = seconds_since(t0);
  if (!g.quiet)
    fmt::print("figures: {} images -> {} in {:.2f} s ({:.0f} images/s generating + writing)\n",
               o.count, g.out, total, o.count / std::max(gen, 1e-9));
  return 0;
}

// ---- show ------------------------------------------------------------------------

struct ShowArgs {
  std::string file, images, out, montage;
  int limit = 16;
  int scale = 2;
};

Image upscale(const Image& img, int s) {
  if (s == 1) return img;
  Image out(img.width * s, img.height * s, img.channels);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < img.channels; ++c) out.at(x, y, c) = img.at(x / s, y / s, c);
  return out;
}

// Draws one image's annotations: masks first (translucent), then boxes and labels,
// then skeletons, so nothing hides the outlines.
Image render(const ShowArgs& a, const CocoDataset& d, const CocoImage& im,
             const std::vector<size_t>& ann_idx) {
  const std::string path = (fs::path(a.images) / im.file_name).string();
  Image img = load_image(path, 3);
  if (img.width != im.width || img.height != im.height)
    throw FileError(path, fmt::format("image is {}x{} but {} says {}x{}", img.width, img.height,
                                      a.file, im.width, im.height));
  const int s = a.scale;
  if (int64_t(img.width) * img.height * s * s > kDefaultMaxPixels)
    throw FileError(path, fmt::format("too large to draw at --scale {}", s));
  img = upscale(img, s);
  auto fail = [&](size_t k, const std::string& what) {
    throw FileError(a.file, fmt::format("annotations[{}]: {}", k, what));
  };
  auto color_of = [&](const CocoAnnotation& ann) {
    return palette_color(static_cast<int>(ann.category_id) - 1);
  };
  for (size_t k : ann_idx) {
    const CocoAnnotation& ann = d.annotations[k];
    // A pose's mask would only hide its skeleton.
    if (ann.segmentation.kind == CocoSegmentation::Kind::None || !ann.keypoints.empty()) continue;
    Mask m;
    try {
      const Rle r = annotation_to_rle(ann, im.height, im.width);
      if (r.height != im.height || r.width != im.width)
        fail(k, fmt::format("mask is {}x{} but the image is {}x{}", r.width, r.height, im.width,
                            im.height));
      m = rle_decode(r);
    } catch (const std::invalid_argument& e) {
      fail(k, e.what());
    }
    std::vector<uint8_t> big(static_cast<size_t>(img.width) * img.height);
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x) big[static_cast<size_t>(y) * img.width + x] = m.at(x / s, y / s);
    draw_mask(img, big.data(), img.width, img.height, color_of(ann), 0.45f);
  }
  for (size_t k : ann_idx) {
    const CocoAnnotation& ann = d.annotations[k];
    const CocoCategory* cat = d.find_category(ann.category_id);
    const Color c = color_of(ann);
    if (!ann.keypoints.empty()) {
      const size_t n = ann.keypoints.size() / 3;
      if (cat && !cat->keypoints.empty() && cat->keypoints.size() != n)
        fail(k, fmt::format("{} keypoints but category {} names {}", n, cat->id,
                            cat->keypoints.size()));
      std::vector<Keypoint> joints(n);
      for (size_t j = 0; j < n; ++j) {
        // COCO coordinates are continuous (pixel i covers [i, i+1)); draw.h wants pixel
        // indices. v outside 0..2 is treated as unlabelled (and never cast from inf).
        const float v = ann.keypoints[3 * j + 2];
        joints[j] = Keypoint{ann.keypoints[3 * j] * s - 0.5f, ann.keypoints[3 * j + 1] * s - 0.5f,
                             v == 1.0f ? 1 : v == 2.0f ? 2 : 0};
      }
      // Limbs between two "left_*" joints in one colour, "right_*" in another, the
      // rest in the category's: a left/right swap is the classic pose-label bug.
      std::vector<std::pair<int, int>> limbs[3];
      auto side = [&](int j) {
        if (!cat || j < 0 || j >= static_cast<int>(cat->keypoints.size())) return 2;
        const std::string& name = cat->keypoints[j];
        return name.rfind("left", 0) == 0 ? 0 : name.rfind("right", 0) == 0 ? 1 : 2;
      };
      if (cat)
        for (const auto& [p, q] : cat->skeleton) {
          const int sp = side(p - 1), sq = side(q - 1);
          limbs[sp == sq ? sp : 2].emplace_back(p - 1, q - 1);
        }
      const Color colors[3] = {Color{0, 200, 255}, Color{255, 60, 60}, c};
      for (int g = 0; g < 3; ++g) draw_skeleton(img, joints, limbs[g], colors[g], 1.5f * s, 2.0f * s);
      // Hidden joints (v = 1) get a white centre.
      for (const Keypoint& kp : joints)
        if (kp.v == 1) fill_circle(img, kp.x, kp.y, 1.0f * s, Color{255, 255, 255});
      continue;  // a pose's box and label would only hide the skeleton
    }
    const auto& b = ann.bbox;
    draw_rect(img, float(b[0] * s), float(b[1] * s), float((b[0] + b[2]) * s),
              float((b[1] + b[3]) * s), c, 1);
    draw_box_label(img, float(b[0] * s), float(b[1] * s),
                   cat ? cat->name : fmt::format("id {}", ann.category_id), c);
  }
  return img;
}

// The rendered images side by side, ceil(sqrt(n)) per row, 2-pixel white gaps.
Image montage(const std::vector<Image>& tiles) {
  const int n = static_cast<int>(tiles.size());
  const int cols = static_cast<int>(std::ceil(std::sqrt(double(n))));
  const int rows = (n + cols - 1) / cols;
  int tw = 0, th = 0;
  for (const Image& t : tiles) tw = std::max(tw, t.width), th = std::max(th, t.height);
  const int gap = 2;
  Image out(cols * tw + (cols + 1) * gap, rows * th + (rows + 1) * gap, 3, 255);
  for (int i = 0; i < n; ++i) {
    const int ox = gap + (i % cols) * (tw + gap), oy = gap + (i / cols) * (th + gap);
    for (int y = 0; y < tiles[i].height; ++y)
      for (int x = 0; x < tiles[i].width; ++x)
        for (int c = 0; c < 3; ++c) out.at(ox + x, oy + y, c) = tiles[i].at(x, y, c);
  }
  return out;
}

int cmd_show(const ShowArgs& a) {
  const CocoDataset d = read_coco(a.file);
  std::map<int64_t, std::vector<size_t>> by_image;
  for (size_t k = 0; k < d.annotations.size(); ++k) {
    if (!d.find_image(d.annotations[k].image_id))
      throw FileError(a.file, fmt::format("annotations[{}]: image_id {} is not in images", k,
                                          d.annotations[k].image_id));
    by_image[d.annotations[k].image_id].push_back(k);
  }
  const int64_t n = std::min<int64_t>(a.limit, static_cast<int64_t>(d.images.size()));
  std::vector<Image> rendered(static_cast<size_t>(n));
  parallel_items(n, [&](int64_t i) {
    const CocoImage& im = d.images[i];
    rendered[i] = render(a, d, im, by_image[im.id]);
    const std::string stem = fs::path(im.file_name).stem().string();
    save_image((fs::path(a.out) / (stem + ".show.png")).string(), rendered[i]);
  });
  if (!a.montage.empty() && n > 0) save_image(a.montage, montage(rendered));
  fmt::print("show: drew {} image(s) from {} into {}{}\n", n, a.file, a.out,
             a.montage.empty() ? "" : " and " + a.montage);
  return 0;
}

// Option checks that CLI11 cannot express (relations between flags): usage errors.
int usage_error(const std::string& what) {
  fmt::print(stderr, "datagen: {}\n", what);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"datagen: deterministic detection scenes and pose figures (COCO JSON)"};
  GenArgs gen;
  SceneOptions so;
  FigureOptions fo;
  ShowArgs show;
  int size = 128;

  auto add_gen_flags = [&](cli::Command& sub, int64_t& count, uint64_t& seed) {
    sub.option("--out", gen.out, "output directory").required();
    sub.option("--count", count, "number of images").range(int64_t(0), int64_t(10000000));
    sub.option("--size", size, "image width and height in pixels").range(16, 4096);
    sub.option("--seed", seed, "random seed");
    sub.option("--threads", gen.threads, "OpenMP threads (0 = default)").range(0, 1024);
    sub.option("--textures", gen.textures, "directory with brick.png, grass.png, gravel.png");
    sub.flag("--quiet", gen.quiet, "no summary line");
  };
  cli::Command scenes = app.subcommand("scenes", "Fashion-MNIST detection scenes with boxes and masks");
  add_gen_flags(scenes, so.count, so.seed);
  scenes.option("--min-objects", so.min_objects, "fewest objects per scene").range(1, 64);
  scenes.option("--max-objects", so.max_objects, "most objects per scene").range(1, 64);
  scenes.option("--min-scale", so.min_scale, "smallest pasted item side (pixels)").range(4.0f, 4096.0f);
  scenes.option("--max-scale", so.max_scale, "largest pasted item side (pixels)").range(4.0f, 4096.0f);
  scenes.option("--max-overlap", so.max_overlap, "largest IoU between two objects' boxes").range(0.0f, 1.0f);
  scenes.flag("--single", so.single, "exactly one object per scene");
  scenes.option("--split", so.split, "Fashion-MNIST split the items come from").one_of({"train", "test"});
  scenes.option("--data", gen.data, "Fashion-MNIST directory");

  cli::Command figures = app.subcommand("figures", "14-joint pose figures with COCO keypoints");
  add_gen_flags(figures, fo.count, fo.seed);
  figures.option("--min-height", fo.min_height, "smallest figure height / image height").range(0.06f, 2.0f);
  figures.option("--max-height", fo.max_height, "largest figure height / image height").range(0.06f, 2.0f);
  figures.option("--occlusion", fo.occlusion_prob, "chance of blobs hiding joints").range(0.0f, 1.0f);
  figures.option("--outside", fo.outside_prob, "chance of a figure partly out of view").range(0.0f, 1.0f);

  cli::Command sh = app.subcommand("show", "draw a COCO file's annotations over its images");
  sh.option("file", show.file, "COCO annotations JSON").required();
  sh.option("--images", show.images, "directory holding the images").required();
  sh.option("--out", show.out, "output directory").required();
  sh.option("--limit", show.limit, "draw at most this many images").range(0, 1000000);
  sh.option("--scale", show.scale, "enlarge images this many times").range(1, 8);
  sh.option("--montage", show.montage, "also write all drawn images in one grid PNG");
  sh.option("--threads", gen.threads, "OpenMP threads (0 = default)").range(0, 1024);

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  so.width = so.height = fo.width = fo.height = size;
  // The default item sizes (16..64 at 128 pixels) follow the image size when not given.
  if (scenes.count("--max-scale") == 0) so.max_scale = std::min(so.max_scale, size / 2.0f);
  if (scenes.count("--min-scale") == 0) so.min_scale = std::min(so.min_scale, so.max_scale);
  try {
    if (scenes) validate(so);
    if (figures) validate(fo);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  return cli::run_guarded([&] {
    cli::apply_threads(gen.threads);
    gen.textures = find_texture_dir(gen.textures);
    if (scenes) return cmd_scenes(so, gen);
    if (figures) return cmd_figures(fo, gen);
    return cmd_show(show);
  });
}
