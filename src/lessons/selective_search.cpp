// Lesson 03 (second half): region proposals by Selective Search (Uijlings et al., IJCV
// 2013) on top of Felzenszwalb-Huttenlocher graph segmentation. No network: "find blobby
// image regions that are likely to contain objects", fast, on the CPU.
//   bin/selective_search predict IMAGE...  ranked boxes (JSON), PNG of the top N boxes,
//                                          --show-segments: PNG of the segmentation
//   bin/selective_search eval     recall@0.5/0.7 vs number of proposals + MABO on the
//                                 scenes test split and the labelme VOC photos
//   bin/selective_search bench    seconds per image per preset on real photos and scenes
// Presets (§5.2): --preset single | fast | quality.
#include <fmt/core.h>
#include <fmt/format.h>

#include <chrono>
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
  int top = 100;
  bool show_segments = false;
  int64_t limit = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

SelectiveSearchOptions preset_options(const Options& o, uint64_t seed) {
  SelectiveSearchOptions so = selective_search_preset(o.preset);
  so.seed = seed;
  return so;
}

std::vector<Box> boxes_of(const SelectiveSearchResult& r) {
  std::vector<Box> b;
  b.reserve(r.proposals.size());
  for (const Proposal& p : r.proposals) b.push_back(p.box);
  return b;
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
  const SelectiveSearchOptions so = preset_options(o, a.seed);
  json all = json::array();
  for (const auto& path : images) {
    const Image img = load_image(path, 3);
    const auto t0 = std::chrono::steady_clock::now();
    const SelectiveSearchResult res = selective_search(img, so);
    const double secs = seconds_since(t0);
    fs::create_directories(out_dir);
    const std::string stem = (fs::path(out_dir) / fs::path(path).stem()).string();
    Image canvas = img;
    const int n = std::min<int>(o.top, static_cast<int>(res.proposals.size()));
    for (int i = n - 1; i >= 0; --i) {  // best-ranked drawn last, on top
      const Box& b = res.proposals[i].box;
      draw_rect(canvas, b.x1, b.y1, b.x2, b.y2, palette_color(i), 1);
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
                  {"seed", a.seed},
                  {"seconds", secs},
                  {"num_boxes", res.proposals.size()},
                  {"annotated", stem + ".selective_search.png"},
                  {"boxes", boxes}};
    if (o.show_segments) {
      save_image(stem + ".segments.png", segments_image(res.segmentations.front()));
      entry["segments"] = stem + ".segments.png";
    }
    write_file_atomic(stem + ".selective_search.json", entry.dump() + "\n");
    if (!a.json)
      fmt::print("{}: {} boxes ({} runs, {} before removing duplicates) in {:.3f} s -> {} (top {})"
                 "{}\n",
                 path, res.proposals.size(), res.num_runs, res.boxes_before_dedup, secs,
                 stem + ".selective_search.png", n,
                 o.show_segments ? ", " + stem + ".segments.png" : std::string());
    all.push_back(entry);
  }
  if (a.json) fmt::print("{}\n", all.dump());
  return 0;
}

// Proposals for every image of a dataset, with their ground truth.
std::vector<ProposalImage> propose_dataset(const DetectionDataset& ds, const SelectiveSearchOptions& so,
                                           double& seconds) {
  std::vector<ProposalImage> out;
  const auto t0 = std::chrono::steady_clock::now();
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

const std::vector<int> kCurveN = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

json evaluate_set(const std::string& name, const DetectionDataset& ds, const SelectiveSearchOptions& so,
                  const cli::CommonArgs& a, const std::string& out_dir, const std::string& preset) {
  double secs = 0;
  const auto images = propose_dataset(ds, so, secs);
  const ProposalRecallCurve curve = proposal_recall_curve(images, kCurveN);
  const MaboResult m = mabo(images);
  int64_t boxes = 0, objects = 0;
  for (const auto& im : images) boxes += im.proposals.size(), objects += im.ground_truth.size();
  const double per_image = images.empty() ? 0 : double(boxes) / images.size();
  const double r50_1000 = proposal_recall(images, 1000, 0.5f);
  fs::create_directories(out_dir);
  const std::string svg = (fs::path(out_dir) / (name + "_recall_" + preset + ".svg")).string();
  cli::Series s50{"recall@0.5", {}, {}}, s70{"recall@0.7", {}, {}};
  for (size_t i = 0; i < curve.num_proposals.size(); ++i) {
    const double x = std::log10(static_cast<double>(curve.num_proposals[i]));
    s50.x.push_back(x), s50.y.push_back(curve.recall_50[i]);
    s70.x.push_back(x), s70.y.push_back(curve.recall_70[i]);
  }
  cli::write_svg_plot(svg, "selective search (" + preset + ") recall on " + name,
                      "log10(number of proposals)", {s50, s70});
  json j = {{"set", name},          {"images", images.size()}, {"objects", objects},
            {"preset", preset},     {"mabo", m.mabo},          {"boxes_per_image", per_image},
            {"seconds_per_image", images.empty() ? 0 : secs / images.size()},
            {"recall50_at_1000", r50_1000},
            {"num_proposals", curve.num_proposals}, {"recall_50", curve.recall_50},
            {"recall_70", curve.recall_70}, {"plot", svg}};
  if (!a.json) {
    fmt::print("{} ({} images, {} objects), preset {}: {:.0f} boxes/image, {:.3f} s/image\n", name,
               images.size(), objects, preset, per_image, images.empty() ? 0 : secs / images.size());
    fmt::print("  {:>6} {:>10} {:>10}\n", "N", "recall@0.5", "recall@0.7");
    for (size_t i = 0; i < curve.num_proposals.size(); ++i)
      fmt::print("  {:>6} {:>10.3f} {:>10.3f}\n", curve.num_proposals[i], curve.recall_50[i],
                 curve.recall_70[i]);
    fmt::print("  MABO {:.3f}   (recall curve: {})\n\n", m.mabo, svg);
  }
  return j;
}

int cmd_eval(const cli::CommonArgs& a, const Options& o) {
  const std::string dir = a.data.empty() ? kDefaultData : a.data;
  if (!fs::exists(dir))
    throw FileError(dir, fmt::format("no such dataset directory; make it with `{}{}`", kMakeScenes, dir));
  const std::string out_dir = a.out.empty() ? kDefaultOut : a.out;
  const SelectiveSearchOptions so = preset_options(o, a.seed);
  json results = json::array();
  results.push_back(evaluate_set("scenes", load_detection_dataset(dir, o.limit), so, a, out_dir, o.preset));
  results.push_back(evaluate_set("labelme", load_detection_dataset(kLabelme), so, a, out_dir, o.preset));
  if (a.json) fmt::print("{}\n", results.dump());
  return 0;
}

int cmd_bench(const cli::CommonArgs& a, const Options& o) {
  std::vector<std::string> paths = {"data/samples/skimage/chelsea.png", "data/samples/darknet/dog.jpg"};
  for (const char* f : {"2011_000003.jpg", "2011_000006.jpg", "2011_000025.jpg"})
    paths.push_back(std::string(kLabelme) + "/JPEGImages/" + f);
  std::vector<std::pair<std::string, Image>> images;
  for (const auto& p : paths) images.emplace_back(p, load_image(p, 3));
  const std::string scenes = a.data.empty() ? kDefaultData : a.data;
  if (fs::exists(scenes)) {
    DetectionDataset ds = load_detection_dataset(scenes, 4);
    for (size_t i = 0; i < ds.items.size(); ++i)
      images.emplace_back(fmt::format("{} #{}", scenes, i), ds.items[i].image);
  } else if (!a.quiet) {
    fmt::print(stderr, "(no scenes: make them with `{}{}`)\n", kMakeScenes, scenes);
  }
  std::vector<std::string> presets = {"single", "fast", "quality"};
  if (!o.preset.empty() && o.preset != "all") presets = {o.preset};
  json results = json::array();
  if (!a.json) fmt::print("{:<48} {:>8} {:>8} {:>8}\n", "image", "preset", "seconds", "boxes");
  for (const auto& [name, img] : images)
    for (const auto& preset : presets) {
      Options po = o;
      po.preset = preset;
      const SelectiveSearchOptions so = preset_options(po, a.seed);
      // Best of 3 (1 for quality): the least disturbed by other load on the machine.
      double best = 1e30;
      size_t boxes = 0;
      for (int rep = 0; rep < (preset == "quality" ? 1 : 3); ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        boxes = selective_search(img, so).proposals.size();
        best = std::min(best, seconds_since(t0));
      }
      results.push_back({{"image", name}, {"width", img.width}, {"height", img.height},
                         {"preset", preset}, {"seconds", best}, {"boxes", boxes}});
      if (!a.json) fmt::print("{:<48} {:>8} {:>8.3f} {:>8}\n", name, preset, best, boxes);
    }
  if (a.json) fmt::print("{}\n", results.dump());
  else
    fmt::print("\nOpenCV for comparison: /usr/bin/python3 tools/bench/opencv_selective_search.py\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"selective_search: region proposals by hierarchical grouping (lesson 03)"};
  app.require_subcommand(1, 1);
  cli::CommonArgs args;
  Options opt;
  std::vector<std::string> images;
  auto add_preset = [&](CLI::App* sub, bool allow_all) {
    std::vector<std::string> names = {"single", "fast", "quality"};
    if (allow_all) names.push_back("all");
    sub->add_option("--preset", opt.preset, "Uijlings et al. §5.2 configuration")
        ->check(CLI::IsMember(names));
  };
  auto* predict = app.add_subcommand("predict", "ranked proposals of images: JSON + PNG");
  cli::add_common_flags(predict, args);
  add_preset(predict, false);
  predict->add_option("--top", opt.top, "boxes drawn in the PNG")->check(CLI::Range(0, 1000000));
  predict->add_flag("--show-segments", opt.show_segments,
                    "also write the graph segmentation (first colour space and k) as a PNG");
  predict->add_option("images", images, "PNG/JPEG/BMP files")->required();
  auto* eval = app.add_subcommand("eval", "recall vs number of proposals and MABO");
  cli::add_common_flags(eval, args);
  add_preset(eval, false);
  eval->add_option("--limit", opt.limit, "evaluate this many scenes only")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)));
  auto* bench = app.add_subcommand("bench", "seconds per image for each preset");
  cli::add_common_flags(bench, args);
  opt.preset = "fast";
  add_preset(bench, true);

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (*predict) return cmd_predict(args, opt, images);
    if (*eval) return cmd_eval(args, opt);
    if (bench->count_all() > 0 && bench->get_option("--preset")->count() == 0) opt.preset = "all";
    return cmd_bench(args, opt);
  });
}
