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

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/detection_dataset.h"
#include "eval/proposal_evaluation.h"
#include "image/image.h"
#include "lessons/common/cli.h"
#include "lessons/common/photo.h"
#include "lessons/common/proposal_pictures.h"
#include "lessons/common/recall_plot.h"
#include "lessons/common/report.h"
#include "proposals/selective_search.h"
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
  SelectiveSearchOverrides overrides;  // of the preset's diversification
  int top = 100;
  int zoom = 1;
  bool show_segments = false;
  int64_t limit = 0;
  int show = 0;
};

// ---- predict ---------------------------------------------------------------------------
int cmd_predict(const cli::CommonArgs& a, const Options& o, const std::vector<std::string>& images) {
  const std::string out_dir = a.out.empty() ? kDefaultOut : a.out;
  const SelectiveSearchOptions so = selective_search_options(o.preset, o.overrides, a.seed);
  const std::string config = describe_selective_search(so);
  json all = json::array();
  for (const auto& path : images) {
    const cli::Photo photo = cli::load_photo(path);
    const Image& img = photo.image;
    const auto t0 = Clock::now();
    const SelectiveSearchResult res = selective_search(img, so);
    const double secs = seconds_since(t0);
    fs::create_directories(out_dir);
    const std::string stem = (fs::path(out_dir) / fs::path(path).stem()).string();
    const std::vector<Box> ranked = proposal_boxes(res);
    const int n = std::min<int>(o.top, static_cast<int>(ranked.size()));
    save_image(stem + ".selective_search.png", cli::draw_ranked_boxes(img, ranked, o.top, o.zoom));
    json boxes = json::array();
    for (size_t i = 0; i < ranked.size(); ++i)
      boxes.push_back({{"rank", i + 1}, {"box_xyxy", {ranked[i].x1, ranked[i].y1, ranked[i].x2, ranked[i].y2}}});
    json entry = {{"image", path},          {"width", img.width},
                  {"height", img.height},   {"preset", o.preset},
                  {"configuration", config}, {"seed", a.seed},
                  {"seconds", secs},        {"num_boxes", res.proposals.size()},
                  {"annotated", stem + ".selective_search.png"}, {"boxes", boxes}};
    if (photo.reduced()) entry["resized_from"] = {photo.file_width, photo.file_height};
    // One picture per (colour space, k): the initial regions each hierarchy starts from.
    const json segments = o.show_segments ? cli::save_segmentations(stem, res, so, o.zoom) : json();
    if (!segments.empty()) entry["segments"] = segments;
    write_file_atomic(stem + ".selective_search.json", entry.dump() + "\n");
    if (!a.json) {
      fmt::print("{}: {} boxes ({} runs: {}; {} before removing duplicates) in {:.3f} s\n  -> {} "
                 "(top {}), {}\n",
                 path, res.proposals.size(), res.num_runs, config, res.boxes_before_dedup,
                 secs, stem + ".selective_search.png", n, stem + ".selective_search.json");
      for (const json& g : segments)
        fmt::print("  -> {} ({} segments)\n", g["file"].get<std::string>(), g["num_segments"].get<int>());
    }
    all.push_back(entry);
  }
  cli::output_result(a, "predict", all);
  return 0;
}

// ---- eval ------------------------------------------------------------------------------
const std::vector<int> kCurveN = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

// One set of images: selective search against random dense windows, plots and pictures.
json evaluate_set(const std::string& name, const DetectionDataset& ds, const SelectiveSearchOptions& so,
                  const cli::CommonArgs& a, const Options& o, const std::string& out_dir) {
  const ProposalEvaluation e = evaluate_proposals(
      ds, [&](const Image& img) { return proposal_boxes(selective_search(img, so)); }, kCurveN,
      a.seed);
  const size_t n_images = e.images.size();
  const double secs_per_image = n_images == 0 ? 0 : e.seconds / n_images;
  const std::string config = describe_selective_search(so);
  fs::create_directories(out_dir);
  const std::string svg = (fs::path(out_dir) / (name + "_recall_" + o.preset + ".svg")).string();
  const std::string png = cli::write_recall_plots(
      svg, "selective search (" + o.preset + ") vs random dense windows on " + name,
      "recall vs N on " + name + ": selective search (" + o.preset + ") and random windows",
      "selective search", e.curve, e.windows_curve);
  json shown = json::array();
  for (int i = 0; i < std::min<int>(o.show, static_cast<int>(n_images)); ++i) {
    const std::string file = (fs::path(out_dir) / fmt::format("{}_{:03d}_best_{}.png", name, i, o.preset)).string();
    const Image& im = ds.items[i].image;
    // --zoom enlarges only small images (the 128x128 scenes), not the VOC photos.
    cli::draw_best_proposals(im, e.images[i], o.top, std::max(im.width, im.height) < 256 ? o.zoom : 1, file);
    shown.push_back(file);
  }
  json j = {{"set", name},          {"images", n_images}, {"objects", e.objects},
            {"preset", o.preset},   {"configuration", config},
            {"mabo", e.mabo.mabo},  {"mabo_at_1000", e.mabo_1000.mabo},
            {"boxes_per_image", e.boxes_per_image},
            {"seconds_per_image", secs_per_image},
            {"recall50_at_1000", e.recall50_1000}, {"recall70_at_1000", e.recall70_1000},
            {"num_proposals", e.curve.num_proposals}, {"recall_50", e.curve.recall_50},
            {"recall_70", e.curve.recall_70}, {"plot", svg}, {"plot_png", png}, {"pictures", shown},
            {"windows", {{"per_image", e.windows_per_image},
                         {"recall_50", e.windows_curve.recall_50},
                         {"recall_70", e.windows_curve.recall_70}}}};
  if (a.json) return j;
  fmt::print("{} ({} images, {} objects), preset {} ({}): {:.0f} boxes/image, {:.3f} s/image\n",
             name, n_images, e.objects, o.preset, config, e.boxes_per_image, secs_per_image);
  fmt::print("  recall of the first N boxes: selective search ({:.0f}/image) vs random dense "
             "windows ({:.0f}/image)\n",
             e.boxes_per_image, e.windows_per_image);
  cli::print_recall_table(e);
  fmt::print("  MABO {:.3f} (top 1000: {:.3f})   recall curves: {}, {}\n", e.mabo.mabo,
             e.mabo_1000.mabo, svg, png);
  for (const auto& f : shown) fmt::print("  -> {}\n", f.get<std::string>());
  fmt::print("\n");
  return j;
}

int cmd_eval(const cli::CommonArgs& a, const Options& o) {
  const std::string dir = a.data.empty() ? kDefaultData : a.data;
  if (!fs::exists(dir))
    throw FileError(dir, fmt::format("no such dataset directory; make it with `{}{}`", kMakeScenes, dir));
  const std::string out_dir = a.out.empty() ? kDefaultOut : a.out;
  const SelectiveSearchOptions so = selective_search_options(o.preset, o.overrides, a.seed);
  json results = json::array();
  results.push_back(evaluate_set("scenes", load_detection_dataset(dir, o.limit), so, a, o, out_dir));
  results.push_back(evaluate_set("labelme", load_detection_dataset(kLabelme), so, a, o, out_dir));
  cli::output_result(a, "eval", results);
  return 0;
}

// ---- bench -----------------------------------------------------------------------------
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
      const SelectiveSearchOptions so = selective_search_options(preset, o.overrides, a.seed);
      // Best of 3 (1 for quality): the least disturbed by other load on the machine.
      double best = 1e30;
      std::vector<Box> boxes;
      for (int rep = 0; rep < (preset == "quality" ? 1 : 3); ++rep) {
        const auto t0 = Clock::now();
        boxes = proposal_boxes(selective_search(im.image, so));
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
  cli::CommonArgs args;
  Options opt;
  std::vector<std::string> images;
  auto add_preset = [&](cli::Command& sub, bool allow_all) {
    std::vector<std::string> names = {"single", "fast", "quality"};
    if (allow_all) names.push_back("all");
    sub.option("--preset", opt.preset, "Uijlings et al. §5.2 configuration (default fast)").one_of(names);
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
    sub.option("--color-spaces", opt.overrides.color_spaces, "override: e.g. HSV,Lab (RGB I Lab rgI HSV H)")
        .delimiter(',')
        .check(valid([](const std::string& s) { parse_color_space(s); }), "COLOURSPACE");
    sub.option("--ks", opt.overrides.ks, "override: graph-segmentation k values, e.g. 50,100").delimiter(',')
        .range(1.0f, 100000.0f);
    sub.option("--strategies", opt.overrides.strategies, "override: e.g. C+T+S+F,T+S+F (letters C T S F)")
        .delimiter(',')
        .check(valid([](const std::string& s) { parse_strategy(s); }), "STRATEGY");
    sub.option("--sigma", opt.overrides.sigma, "override: Gaussian smoothing before segmentation (default: the preset's)")
        .range(0.0f, 10.0f);
    sub.option("--min-size", opt.overrides.min_size, "override: smallest segment in pixels (default: k)")
        .range(0, 1000000);
    sub.option("--zoom", opt.zoom, "enlarge the pictures (nearest neighbour; eval: images under 256 px only)")
        .range(1, 8);
    sub.option("--top", opt.top, "boxes drawn (predict) / searched for the best box (eval --show)")
        .range(1, 1000000);
  };
  cli::Command predict = cli::add_command(app, args, "predict", "ranked proposals of images: JSON + PNG", true);
  add_preset(predict, false);
  add_overrides(predict);
  predict.flag("--show-segments", opt.show_segments,
               "also write each (colour space, k) graph segmentation as a PNG");
  predict.option("images", images, "PNG/JPEG/BMP files").required();
  cli::Command eval = cli::add_command(app, args, "eval", "recall vs number of proposals and MABO", true);
  add_preset(eval, false);
  add_overrides(eval);
  eval.option("--limit", opt.limit, "evaluate this many scenes only").range(int64_t(1), int64_t(10000000));
  eval.option("--show", opt.show,
              "draw ground truth and each object's best proposal for the first N images of each set")
      .range(0, 1000);
  cli::Command bench = cli::add_command(app, args, "bench", "seconds, boxes and recall@0.5 per image for each preset");
  add_preset(bench, true);
  bench.option("--limit", opt.limit, "scenes to time (default 4)").range(int64_t(1), int64_t(10000));

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
