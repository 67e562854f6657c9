// Lesson 03 (second half): region proposals by Selective Search (Uijlings et al., IJCV
// 2013) on top of Felzenszwalb-Huttenlocher graph segmentation. No network: "find blobby
// image regions that are likely to contain objects", fast, on the CPU.
//   bin/selective_search predict IMAGE...  ranked boxes (JSON), PNG of the top N boxes,
//                                          --show-segments: PNGs of the segmentations
//   bin/selective_search eval     recall@0.5/0.7 vs number of proposals + MABO on the
//                                 scenes test split and the labelme VOC photos
//   bin/selective_search bench    seconds, boxes and recall@0.5 per image per preset
// Presets (§5.2): --preset single | fast | quality; --color-spaces, --ks, --strategies
// and --sigma override a preset's diversification (§3.4).
#include <fmt/core.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/detection_dataset.h"
#include "eval/proposal_metrics.h"
#include "image/draw.h"
#include "image/image.h"
#include "lessons/common/cli.h"
#include "lessons/common/plot_svg.h"
#include "proposals/selective_search.h"
#include "tensor/rng.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kDefaultData = "data/generated/scenes/test";
const char* kDefaultOut = "out/selective_search";
const char* kLabelme = "data/samples/labelme";
const char* kMakeScenes = "bin/datagen scenes --split test --count 200 --seed 2 --out ";

struct Options {
  std::string preset = "fast";
  // Overrides of the preset's diversification; empty / negative = the preset's.
  std::vector<std::string> color_spaces, strategies;
  std::vector<float> ks;
  float sigma = -1;
  int min_size = -1;
  int top = 100;
  int zoom = 1;
  bool show_segments = false;
  int64_t limit = 0;
  int show = 0;
};

SelectiveSearchOptions search_options(const Options& o, uint64_t seed) {
  SelectiveSearchOptions so = selective_search_preset(o.preset);
  if (!o.color_spaces.empty()) {
    so.color_spaces.clear();
    for (const auto& name : o.color_spaces) so.color_spaces.push_back(parse_color_space(name));
  }
  if (!o.strategies.empty()) {
    so.strategies.clear();
    for (const auto& name : o.strategies) so.strategies.push_back(parse_strategy(name));
  }
  if (!o.ks.empty()) so.ks = o.ks;
  if (o.sigma >= 0) so.sigma = o.sigma;
  if (o.min_size >= 0) so.min_size = o.min_size;
  so.seed = seed;
  return so;
}

// "HSV,Lab k=50,100 C+T+S+F,T+S+F sigma=0.8": what actually ran.
std::string describe(const SelectiveSearchOptions& so) {
  std::string cs, ks, st;
  for (ColorSpace c : so.color_spaces) cs += (cs.empty() ? "" : ",") + std::string(color_space_name(c));
  for (float k : so.ks) ks += (ks.empty() ? "" : ",") + fmt::format("{:g}", k);
  for (const Strategy& s : so.strategies) st += (st.empty() ? "" : ",") + s.name();
  return fmt::format("{} k={} {} sigma={:g}{}", cs, ks, st, so.sigma,
                     so.min_size >= 0 ? fmt::format(" min_size={}", so.min_size) : std::string());
}

std::vector<Box> boxes_of(const SelectiveSearchResult& r) {
  std::vector<Box> b;
  b.reserve(r.proposals.size());
  for (const Proposal& p : r.proposals) b.push_back(p.box);
  return b;
}

// Nearest-neighbour enlargement, so that 1-pixel outlines on a 128x128 scene stay
// visible; boxes are then drawn in zoomed coordinates.
Image zoom_nearest(const Image& img, int zoom) {
  if (zoom <= 1) return img;
  Image out(img.width * zoom, img.height * zoom, img.channels);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < img.channels; ++c) out.at(x, y, c) = img.at(x / zoom, y / zoom, c);
  return out;
}

// Each segment a random colour (from its label, so the picture is reproducible).
Image segments_image(const Segmentation& seg) {
  Image out(seg.width, seg.height, 3);
  std::vector<Color> colours(seg.num_segments);
  Rng rng(7);
  for (Color& c : colours)
    c = {static_cast<uint8_t>(rng.below(256)), static_cast<uint8_t>(rng.below(256)),
         static_cast<uint8_t>(rng.below(256))};
  for (size_t i = 0; i < seg.labels.size(); ++i) {
    const Color c = colours[seg.labels[i]];
    out.pixels[3 * i] = c.r, out.pixels[3 * i + 1] = c.g, out.pixels[3 * i + 2] = c.b;
  }
  return out;
}

int cmd_predict(const cli::CommonArgs& a, const Options& o, const std::vector<std::string>& images) {
  const std::string out_dir = a.out.empty() ? kDefaultOut : a.out;
  const SelectiveSearchOptions so = search_options(o, a.seed);
  json all = json::array();
  for (const auto& path : images) {
    const Image img = load_image(path, 3);
    const auto t0 = Clock::now();
    const SelectiveSearchResult res = selective_search(img, so);
    const double secs = seconds_since(t0);
    fs::create_directories(out_dir);
    const std::string stem = (fs::path(out_dir) / fs::path(path).stem()).string();
    Image canvas = zoom_nearest(img, o.zoom);
    const int n = std::min<int>(o.top, static_cast<int>(res.proposals.size()));
    const float z = static_cast<float>(o.zoom);
    for (int i = n - 1; i >= 0; --i) {  // best-ranked drawn last, on top
      const Box& b = res.proposals[i].box;
      draw_rect(canvas, b.x1 * z, b.y1 * z, b.x2 * z, b.y2 * z, palette_color(i), 1);
    }
    save_image(stem + ".selective_search.png", canvas);
    json boxes = json::array();
    for (size_t i = 0; i < res.proposals.size(); ++i) {
      const Box& b = res.proposals[i].box;
      boxes.push_back({{"rank", i + 1}, {"box_xyxy", {b.x1, b.y1, b.x2, b.y2}}});
    }
    json entry = {{"image", path},
                  {"width", img.width},
                  {"height", img.height},
                  {"preset", o.preset},
                  {"configuration", describe(so)},
                  {"seed", a.seed},
                  {"seconds", secs},
                  {"num_boxes", res.proposals.size()},
                  {"annotated", stem + ".selective_search.png"},
                  {"boxes", boxes}};
    std::vector<std::string> segment_files;
    if (o.show_segments) {
      // One picture per (colour space, k): the initial regions each hierarchy starts from.
      for (size_t i = 0; i < res.segmentations.size(); ++i) {
        const ColorSpace cs = so.color_spaces[i / so.ks.size()];
        const float k = so.ks[i % so.ks.size()];
        const std::string file = fmt::format("{}.segments.{}-k{:g}.png", stem, color_space_name(cs), k);
        save_image(file, zoom_nearest(segments_image(res.segmentations[i]), o.zoom));
        segment_files.push_back(file);
        entry["segments"].push_back({{"file", file},
                                     {"color_space", color_space_name(cs)},
                                     {"k", k},
                                     {"num_segments", res.segmentations[i].num_segments}});
      }
    }
    write_file_atomic(stem + ".selective_search.json", entry.dump() + "\n");
    if (!a.json) {
      fmt::print("{}: {} boxes ({} runs: {}; {} before removing duplicates) in {:.3f} s\n  -> {} "
                 "(top {}), {}\n",
                 path, res.proposals.size(), res.num_runs, describe(so), res.boxes_before_dedup,
                 secs, stem + ".selective_search.png", n, stem + ".selective_search.json");
      for (size_t i = 0; i < segment_files.size(); ++i)
        fmt::print("  -> {} ({} segments)\n", segment_files[i], res.segmentations[i].num_segments);
    }
    all.push_back(entry);
  }
  if (a.json) fmt::print("{}\n", all.dump());
  return 0;
}

// Proposals for every image of a dataset, with their ground truth.
std::vector<ProposalImage> propose_dataset(const DetectionDataset& ds, const SelectiveSearchOptions& so,
                                           double& seconds) {
  std::vector<ProposalImage> out;
  const auto t0 = Clock::now();
  for (const DetectionItem& item : ds.items) {
    ProposalImage pi;
    pi.proposals = boxes_of(selective_search(item.image, so));
    pi.ground_truth = item.boxes;
    pi.labels = item.labels;
    out.push_back(std::move(pi));
  }
  seconds = seconds_since(t0);
  return out;
}

// Ground truth (green, thick) and, for each object, the best-ranked proposal among the
// first `top` that reaches the object's best IoU, labelled "#rank IoU".
void draw_best_proposals(const Image& img, const ProposalImage& pi, int top, int zoom,
                         const std::string& path) {
  Image canvas = zoom_nearest(img, zoom);
  const float z = static_cast<float>(zoom);
  const Color green{40, 220, 40};
  for (const Box& g : pi.ground_truth) draw_rect(canvas, g.x1 * z, g.y1 * z, g.x2 * z, g.y2 * z, green, 3);
  const int n = std::min<int>(top, static_cast<int>(pi.proposals.size()));
  for (size_t j = 0; j < pi.ground_truth.size(); ++j) {
    int best = -1;
    float best_iou = 0;
    for (int i = 0; i < n; ++i) {
      const float iou = box_iou(pi.ground_truth[j], pi.proposals[i]);
      if (iou > best_iou) best_iou = iou, best = i;
    }
    if (best < 0) continue;
    const Box& b = pi.proposals[best];
    const Color c = palette_color(static_cast<int>(j) + 1);
    draw_rect(canvas, b.x1 * z, b.y1 * z, b.x2 * z, b.y2 * z, c, 1);
    draw_box_label(canvas, b.x1 * z, b.y1 * z, fmt::format("#{} {:.2f}", best + 1, best_iou), c);
  }
  save_image(path, canvas);
}

const std::vector<int> kCurveN = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

// The recall curves as a PNG too (the SVG needs a browser; a lesson page shows PNGs):
// x = log10 N from 1 to 5000, y = recall 0..1; solid lines IoU 0.5, thin lines IoU 0.7.
void write_recall_png(const std::string& path, const std::string& title,
                      const std::vector<cli::Series>& series, const std::vector<Color>& colours) {
  const int W = 560, H = 360, left = 48, right = 16, top = 28, bottom = 40;
  Image img(W, H, 3, 255);
  const double xmax = std::log10(5000.0);
  auto px = [&](double x) { return left + static_cast<float>(x / xmax) * (W - left - right); };
  auto py = [&](double y) { return H - bottom - static_cast<float>(y) * (H - top - bottom); };
  const Color grid{220, 220, 220}, ink{40, 40, 40}, white{255, 255, 255};
  for (int i = 0; i <= 4; ++i) {
    draw_line(img, px(0), py(i / 4.0), px(xmax), py(i / 4.0), grid);
    draw_text(img, 6, static_cast<int>(py(i / 4.0)) - 4, fmt::format("{:.2f}", i / 4.0), ink, white);
  }
  for (int e = 0; e <= 3; ++e) {
    draw_line(img, px(e), py(0), px(e), py(1), grid);
    draw_text(img, static_cast<int>(px(e)) - 8, H - bottom + 6, fmt::format("{}", int(std::pow(10, e))), ink, white);
  }
  draw_text(img, W / 2 - 60, H - 18, "number of proposals N (log)", ink, white);
  draw_text(img, left, 8, title, ink, white);
  for (size_t s = 0; s < series.size(); ++s) {
    const float thick = s % 2 == 0 ? 2.5f : 1.0f;
    for (size_t i = 1; i < series[s].x.size(); ++i)
      draw_line(img, px(series[s].x[i - 1]), py(series[s].y[i - 1]), px(series[s].x[i]),
                py(series[s].y[i]), colours[s], thick);
    const int ly = H - bottom - 14 - 12 * static_cast<int>(series.size() - s);
    draw_line(img, W - 200, ly + 3, W - 182, ly + 3, colours[s], thick);
    draw_text(img, W - 176, ly, series[s].name, ink, white);
  }
  save_image(path, img);
}

// The baseline proposals buy us out of: every window of a dense grid, in random order
// (a box has no score until a classifier looks at it). Sides 16 px up to the image in
// steps of sqrt(2), aspects h/w 1/2, 1, 2 (area side^2), stride a quarter of the side.
std::vector<Box> dense_windows(int width, int height, Rng& rng) {
  std::vector<Box> boxes;
  for (float side = 16; side <= std::max(width, height) * 1.001f; side *= std::sqrt(2.0f))
    for (float aspect : {0.5f, 1.0f, 2.0f}) {
      const float w = std::round(side / std::sqrt(aspect)), h = std::round(side * std::sqrt(aspect));
      if (w > width || h > height) continue;
      const int stride = std::max(1, static_cast<int>(std::lround(side / 4)));
      for (float y = 0; y + h <= height; y += stride)
        for (float x = 0; x + w <= width; x += stride) boxes.push_back({x, y, x + w, y + h});
    }
  for (size_t i = boxes.size(); i > 1; --i)  // Fisher-Yates with dl::Rng
    std::swap(boxes[i - 1], boxes[rng.below(static_cast<uint32_t>(i))]);
  return boxes;
}

json evaluate_set(const std::string& name, const DetectionDataset& ds, const SelectiveSearchOptions& so,
                  const cli::CommonArgs& a, const Options& o, const std::string& out_dir) {
  double secs = 0;
  const auto images = propose_dataset(ds, so, secs);
  const ProposalRecallCurve curve = proposal_recall_curve(images, kCurveN);
  const MaboResult m = mabo(images);
  int64_t boxes = 0, objects = 0;
  for (const auto& im : images) boxes += im.proposals.size(), objects += im.ground_truth.size();
  const double per_image = images.empty() ? 0 : double(boxes) / images.size();
  const double r50_1000 = proposal_recall(images, 1000, 0.5f);
  const double r70_1000 = proposal_recall(images, 1000, 0.7f);
  const MaboResult m1000 = mabo(images, 1000);
  std::vector<ProposalImage> windows = images;
  int64_t num_windows = 0;
  for (size_t i = 0; i < windows.size(); ++i) {
    Rng rng = Rng(a.seed).fork(i);
    windows[i].proposals = dense_windows(ds.items[i].image.width, ds.items[i].image.height, rng);
    num_windows += windows[i].proposals.size();
  }
  const ProposalRecallCurve wcurve = proposal_recall_curve(windows, kCurveN);
  const double windows_per_image = windows.empty() ? 0 : double(num_windows) / windows.size();
  fs::create_directories(out_dir);
  const std::string svg = (fs::path(out_dir) / (name + "_recall_" + o.preset + ".svg")).string();
  cli::Series s50{"selective search recall@0.5", {}, {}}, s70{"selective search recall@0.7", {}, {}};
  cli::Series w50{"random windows recall@0.5", {}, {}}, w70{"random windows recall@0.7", {}, {}};
  for (size_t i = 0; i < curve.num_proposals.size(); ++i) {
    const double x = std::log10(static_cast<double>(curve.num_proposals[i]));
    s50.x.push_back(x), s50.y.push_back(curve.recall_50[i]);
    s70.x.push_back(x), s70.y.push_back(curve.recall_70[i]);
    w50.x.push_back(x), w50.y.push_back(wcurve.recall_50[i]);
    w70.x.push_back(x), w70.y.push_back(wcurve.recall_70[i]);
  }
  cli::write_svg_plot(svg, "selective search (" + o.preset + ") vs random dense windows on " + name,
                      "log10(number of proposals)", {s50, s70, w50, w70});
  const std::string png = svg.substr(0, svg.size() - 4) + ".png";
  write_recall_png(png, "recall vs N on " + name + ": selective search (" + o.preset + ") and random windows",
                   {s50, s70, w50, w70}, {{20, 90, 200}, {20, 90, 200}, {220, 90, 20}, {220, 90, 20}});
  json shown = json::array();
  for (int i = 0; i < std::min<int>(o.show, static_cast<int>(images.size())); ++i) {
    const std::string file = (fs::path(out_dir) / fmt::format("{}_{:03d}_best_{}.png", name, i, o.preset)).string();
    const Image& im = ds.items[i].image;
    // --zoom enlarges only small images (the 128x128 scenes), not the VOC photos.
    draw_best_proposals(im, images[i], o.top, std::max(im.width, im.height) < 256 ? o.zoom : 1, file);
    shown.push_back(file);
  }
  json j = {{"set", name},          {"images", images.size()}, {"objects", objects},
            {"preset", o.preset},   {"configuration", describe(so)},
            {"mabo", m.mabo},       {"mabo_at_1000", m1000.mabo},
            {"boxes_per_image", per_image},
            {"seconds_per_image", images.empty() ? 0 : secs / images.size()},
            {"recall50_at_1000", r50_1000}, {"recall70_at_1000", r70_1000},
            {"num_proposals", curve.num_proposals}, {"recall_50", curve.recall_50},
            {"recall_70", curve.recall_70}, {"plot", svg}, {"plot_png", png}, {"pictures", shown},
            {"windows", {{"per_image", windows_per_image},
                         {"recall_50", wcurve.recall_50},
                         {"recall_70", wcurve.recall_70}}}};
  if (!a.json) {
    fmt::print("{} ({} images, {} objects), preset {} ({}): {:.0f} boxes/image, {:.3f} s/image\n",
               name, images.size(), objects, o.preset, describe(so), per_image,
               images.empty() ? 0 : secs / images.size());
    fmt::print("  recall of the first N boxes: selective search ({:.0f}/image) vs random dense "
               "windows ({:.0f}/image)\n",
               per_image, windows_per_image);
    fmt::print("  {:>6} {:>8} {:>8}   {:>8} {:>8}\n", "N", "SS@0.5", "SS@0.7", "win@0.5", "win@0.7");
    for (size_t i = 0; i < curve.num_proposals.size(); ++i)
      fmt::print("  {:>6} {:>8.3f} {:>8.3f}   {:>8.3f} {:>8.3f}\n", curve.num_proposals[i],
                 curve.recall_50[i], curve.recall_70[i], wcurve.recall_50[i], wcurve.recall_70[i]);
    fmt::print("  {:>6} {:>8.3f} {:>8.3f}   {:>8.3f} {:>8.3f}\n", "all", proposal_recall(images, -1, 0.5f),
               proposal_recall(images, -1, 0.7f), proposal_recall(windows, -1, 0.5f),
               proposal_recall(windows, -1, 0.7f));
    fmt::print("  MABO {:.3f} (top 1000: {:.3f})   recall curves: {}, {}\n", m.mabo, m1000.mabo, svg, png);
    for (const auto& f : shown) fmt::print("  -> {}\n", f.get<std::string>());
    fmt::print("\n");
  }
  return j;
}

int cmd_eval(const cli::CommonArgs& a, const Options& o) {
  const std::string dir = a.data.empty() ? kDefaultData : a.data;
  if (!fs::exists(dir))
    throw FileError(dir, fmt::format("no such dataset directory; make it with `{}{}`", kMakeScenes, dir));
  const std::string out_dir = a.out.empty() ? kDefaultOut : a.out;
  const SelectiveSearchOptions so = search_options(o, a.seed);
  json results = json::array();
  results.push_back(evaluate_set("scenes", load_detection_dataset(dir, o.limit), so, a, o, out_dir));
  results.push_back(evaluate_set("labelme", load_detection_dataset(kLabelme), so, a, o, out_dir));
  if (a.json) fmt::print("{}\n", results.dump());
  return 0;
}

struct BenchImage {
  std::string name;
  Image image;
  std::vector<Box> ground_truth;  // empty: no recall column
};

// The images of a COCO directory, named by their file path (as the OpenCV script
// names them, so the two tables line up).
void add_dataset_images(const std::string& dir, int64_t limit, std::vector<BenchImage>& out) {
  DetectionDataset ds = load_detection_dataset(dir, limit);
  for (size_t i = 0; i < ds.items.size(); ++i) {
    const std::string file = ds.coco.images[i].file_name;
    fs::path p = fs::path(dir) / file;
    if (!fs::exists(p)) p = fs::path(dir) / "images" / file;
    out.push_back({p.string(), std::move(ds.items[i].image), ds.items[i].boxes});
  }
}

int cmd_bench(const cli::CommonArgs& a, const Options& o) {
  std::vector<BenchImage> images;
  for (const char* p : {"data/samples/skimage/chelsea.png", "data/samples/darknet/dog.jpg"})
    images.push_back({p, load_image(p, 3), {}});
  add_dataset_images(kLabelme, 0, images);
  const std::string scenes = a.data.empty() ? kDefaultData : a.data;
  if (fs::exists(scenes)) add_dataset_images(scenes, o.limit > 0 ? o.limit : 4, images);
  else if (!a.quiet) fmt::print(stderr, "(no scenes: make them with `{}{}`)\n", kMakeScenes, scenes);
  std::vector<std::string> presets = {"single", "fast", "quality"};
  if (!o.preset.empty() && o.preset != "all") presets = {o.preset};
  json results = json::array();
  if (!a.json)
    fmt::print("{:<48} {:>8} {:>8} {:>7} {:>11}\n", "image", "preset", "seconds", "boxes", "recall@0.5");
  for (const BenchImage& im : images)
    for (const auto& preset : presets) {
      Options po = o;
      po.preset = preset;
      const SelectiveSearchOptions so = search_options(po, a.seed);
      // Best of 3 (1 for quality): the least disturbed by other load on the machine.
      double best = 1e30;
      std::vector<Box> boxes;
      for (int rep = 0; rep < (preset == "quality" ? 1 : 3); ++rep) {
        const auto t0 = Clock::now();
        boxes = boxes_of(selective_search(im.image, so));
        best = std::min(best, seconds_since(t0));
      }
      json r = {{"image", im.name}, {"width", im.image.width}, {"height", im.image.height},
                {"preset", preset}, {"seconds", best}, {"boxes", boxes.size()}};
      std::string recall = "-";
      if (!im.ground_truth.empty()) {
        int hit = 0;
        for (const Box& g : im.ground_truth) hit += best_overlap(g, boxes) >= 0.5f;
        r["recalled50"] = hit;
        r["objects"] = im.ground_truth.size();
        recall = fmt::format("{}/{}", hit, im.ground_truth.size());
      }
      results.push_back(r);
      if (!a.json)
        fmt::print("{:<48} {:>8} {:>8.3f} {:>7} {:>11}\n", im.name, preset, best, boxes.size(), recall);
    }
  if (a.json) fmt::print("{}\n", results.dump());
  else
    fmt::print("\nOpenCV side by side: /usr/bin/python3 tools/bench/opencv_selective_search.py --with-detlab\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"selective_search: region proposals by hierarchical grouping (lesson 03)"};
  app.require_one_subcommand();
  cli::CommonArgs args;
  Options opt;
  std::vector<std::string> images;
  auto add_preset = [&](cli::Command& sub, bool allow_all) {
    std::vector<std::string> names = {"single", "fast", "quality"};
    if (allow_all) names.push_back("all");
    sub.option("--preset", opt.preset, "Uijlings et al. §5.2 configuration (default fast)")
        .one_of(names);
  };
  // Diversification overrides (predict, eval); checked when parsed, so a typo is a usage error.
  auto add_overrides = [&](cli::Command& sub) {
    // The checks call the library's parsers, so a colour space or strategy added there
    // is accepted here without touching this file.
    auto valid = [](auto parse) {
      return [parse](const std::string& s) {
        try {
          parse(s);
          return std::string();
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
      };
    };
    sub.option("--color-spaces", opt.color_spaces, "override: e.g. HSV,Lab (RGB I Lab rgI HSV H)")
        .delimiter(',')
        .check(valid([](const std::string& s) { parse_color_space(s); }), "COLOURSPACE");
    sub.option("--ks", opt.ks, "override: graph-segmentation k values, e.g. 50,100")
        .delimiter(',')
        .range(1.0f, 100000.0f);
    sub.option("--strategies", opt.strategies, "override: e.g. C+T+S+F,T+S+F (letters C T S F)")
        .delimiter(',')
        .check(valid([](const std::string& s) { parse_strategy(s); }), "STRATEGY");
    sub.option("--sigma", opt.sigma, "override: Gaussian smoothing before segmentation")
        .range(0.0f, 10.0f);
    sub.option("--min-size", opt.min_size, "override: smallest segment in pixels (default: k)")
        .range(0, 1000000);
    sub.option("--zoom", opt.zoom, "enlarge the pictures (nearest neighbour; eval: images under 256 px only)")
        .range(1, 8);
    sub.option("--top", opt.top, "boxes drawn (predict) / searched for the best box (eval --show)")
        .range(1, 1000000);
  };
  cli::Command predict = app.subcommand("predict", "ranked proposals of images: JSON + PNG");
  cli::add_common_flags(predict, args);
  add_preset(predict, false);
  add_overrides(predict);
  predict.flag("--show-segments", opt.show_segments,
               "also write each (colour space, k) graph segmentation as a PNG");
  predict.option("images", images, "PNG/JPEG/BMP files").required();
  cli::Command eval = app.subcommand("eval", "recall vs number of proposals and MABO");
  cli::add_common_flags(eval, args);
  add_preset(eval, false);
  add_overrides(eval);
  eval.option("--limit", opt.limit, "evaluate this many scenes only")
      .range(int64_t(1), int64_t(10000000));
  eval.option("--show", opt.show,
              "draw ground truth and each object's best proposal for the first N images of each set")
      .range(0, 1000);
  cli::Command bench = app.subcommand("bench", "seconds, boxes and recall@0.5 per image for each preset");
  cli::add_common_flags(bench, args);
  add_preset(bench, true);
  bench.option("--limit", opt.limit, "scenes to time (default 4)")
      .range(int64_t(1), int64_t(10000));

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (predict) return cmd_predict(args, opt, images);
    if (eval) {
      if (opt.show > 0 && eval.count("--top") == 0) opt.top = 1000;
      return cmd_eval(args, opt);
    }
    if (bench.count("--preset") == 0) opt.preset = "all";
    return cmd_bench(args, opt);
  });
}
