// compare: the lecture's timing chart for R-CNN, SPP-net and Fast R-CNN, measured here.
// Every detector program follows the same contract, so any of them can join the table
// by name (Faster R-CNN, YOLO, SSD, ... later):
//   - its model is MODELS/NAME.safetensors, with NAME.train.json ("train_seconds") or
//     the training log NAME.csv (a `seconds` column, one row per epoch) next to it;
//   - `bin/NAME eval --json` prints voc_map50, coco_ap, seconds_per_image (everything
//     included) and, for proposal-based methods, proposal_seconds_per_image.
// compare runs each method's eval on the same test images (one at a time, so they never
// compete for the cores), then prints the table, writes it as JSON, and draws the bars
// (training and test time, speed-up over the first method) and a speed/accuracy plot.
//   bin/compare --methods rcnn,spp_net,fast_rcnn [--data DIR] [--limit N] [--threads T]
//               [--proposal-cache DIR]
//   bin/compare --bench --methods rcnn,spp_net,fast_rcnn [--limit N]   test time only
//   bin/compare --plot tradeoff [--methods ...]   the lecture's speed/accuracy trade-off:
//               every detector detlab has (the default methods) beside the papers' numbers
// A method PROGRAM:MODEL runs bin/PROGRAM on MODELS/MODEL.safetensors, so two models of
// one program get a row each (mask_rcnn:mask_rcnn_roi_pool, Mask R-CNN's RoI pooling
// ablation); a program whose eval reports mask_ap (Mask R-CNN) fills the mask AP column.
#include <fmt/core.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lessons/common/cli.h"
#include "lessons/common/compare_chart.h"
#include "lessons/common/method_runs.h"
#include "image/image.h"
#include "lessons/common/paper_geometry.h"
#include "lessons/common/report.h"
#include "lessons/common/training_time.h"
#include "util/files.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::vector<std::string> methods;
  std::string data, models = "data/models", out = "out/compare";
  int limit = 0, threads = 0;
  double time_limit = 3600;
  bool json = false, bench = false;
  std::string plot;            // "tradeoff": also draw compare_tradeoff.svg and the papers' table
  std::string proposal_cache;  // '' = proposals computed during each eval
  std::string geometry = "scenes";  // "paper": lessons/common/paper_geometry.h
  std::string report;               // --report: the table and charts as an HTML page
  std::string photo = "data/samples/darknet/dog.jpg";
  cli::PaperGeometryOptions paper;
};

struct Row {
  std::string method;
  double train_seconds = -1, test_seconds = -1, proposal_seconds = 0;
  double voc_map50 = -1, coco_ap = -1, mask_ap = -1;
  int images = 0;
  double without_proposals() const { return test_seconds - proposal_seconds; }
};

double number(const json& j, const char* key, double fallback) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

Row measure(const std::string& method, const Options& o) {
  const std::string program = cli::program_path(cli::program_of(method));
  const std::string model = cli::model_of(method, o.models);
  Row r;
  r.method = cli::model_stem_of(method);
  r.train_seconds = cli::recorded_train_seconds(model);
  std::vector<std::string> argv = {program, "eval", "--json", "--model", model};
  if (!o.data.empty()) argv.insert(argv.end(), {"--data", o.data});
  if (o.limit > 0) argv.insert(argv.end(), {"--limit", std::to_string(o.limit)});
  if (o.threads > 0) argv.insert(argv.end(), {"--threads", std::to_string(o.threads)});
  // The lecture's "with proposals" column counts computing them (R-CNN's Selective
  // Search took about 2 s per image): the disk cache is bypassed unless asked for.
  if (cli::takes_proposal_cache(program)) argv.insert(argv.end(), {"--cache-dir", o.proposal_cache});
  const json j = cli::run_json(program, argv, o.time_limit);
  if (!j.is_object() || !j.contains("seconds_per_image") || !j.contains("voc_map50"))
    throw FileError(program, "eval --json printed no voc_map50 / seconds_per_image");
  r.test_seconds = number(j, "seconds_per_image", -1);
  r.proposal_seconds = number(j, "proposal_seconds_per_image", 0);
  r.voc_map50 = number(j, "voc_map50", -1);
  r.coco_ap = number(j, "coco_ap", -1);
  r.mask_ap = number(j, "mask_ap", -1);
  r.images = static_cast<int>(number(j, "images", 0));
  return r;
}

std::string cell(double v, const char* fmt_spec) {
  return v < 0 ? "n/a" : fmt::format(fmt::runtime(fmt_spec), v);
}

// --bench: test time only, from each program's `bench --json` (proposals computed, no
// accuracy, so a model is optional: without one the program times random weights of
// the default size, which costs the same). Ratios against the first method, measured in
// the same run: what `make bench` prints for the lecture's speed-up claims.
int run_bench(const Options& o) {
  json table = json::array();
  std::vector<std::string> untrained;
  double ref_total = -1, ref_without = -1;
  if (!o.json)
    fmt::print("{:<14} {:>11} {:>16} {:>9} {:>13} {:>10}\n", "method", "test/image",
               "w/o proposals", "speed-up", "(w/o prop.)", "proposals");
  for (const std::string& m : o.methods) {
    const std::string program = cli::program_path(cli::program_of(m));
    const std::string model = (fs::path(o.models) / (cli::model_stem_of(m) + ".safetensors")).string();
    std::vector<std::string> argv = {program, "bench", "--json", "--quiet"};
    if (fs::exists(model)) argv.insert(argv.end(), {"--model", model});
    else untrained.push_back(m);
    if (!o.data.empty()) argv.insert(argv.end(), {"--data", o.data});
    if (o.limit > 0) argv.insert(argv.end(), {"--limit", std::to_string(o.limit)});
    if (o.threads > 0) argv.insert(argv.end(), {"--threads", std::to_string(o.threads)});
    const json j = cli::run_json(program, argv, o.time_limit);
    if (!j.is_object() || !j.contains("seconds_per_image") || !j["seconds_per_image"].is_object())
      throw FileError(program, "bench --json printed no seconds_per_image {total, without_proposals}");
    const double total = number(j["seconds_per_image"], "total", -1);
    const double without = number(j["seconds_per_image"], "without_proposals", -1);
    if (ref_total < 0) ref_total = total, ref_without = without;
    const double speedup = total > 0 ? ref_total / total : -1;
    const double speedup_wo = without > 0 ? ref_without / without : -1;
    const double props = number(j, "proposals_per_image", -1);
    table.push_back({{"method", cli::model_stem_of(m)},
                     {"model", fs::exists(model) ? model : "random weights"},
                     {"test_seconds_per_image", total},
                     {"test_seconds_per_image_without_proposals", without},
                     {"speedup", speedup},
                     {"speedup_without_proposals", speedup_wo},
                     {"proposals_per_image", props}});
    if (!o.json)
      fmt::print("{:<14} {:>11} {:>16} {:>9} {:>13} {:>10}\n", m, cell(total, "{:.4f} s"),
                 cell(without, "{:.4f} s"), cell(speedup, "{:.1f}x"), cell(speedup_wo, "{:.1f}x"),
                 cell(props, "{:.0f}"));
  }
  fs::create_directories(o.out);
  const json doc = {{"methods", table}, {"reference", o.methods.front()}};
  write_file_atomic((fs::path(o.out) / "compare_bench.json").string(), doc.dump(2) + "\n");
  if (!o.report.empty())
    cli::write_report_page(o.report, "compare --bench",
                           "test time per image; speed-ups against " + o.methods.front(),
                           {(fs::path(o.out) / "compare_bench.json").string()}, doc, {});
  if (o.json) {
    fmt::print("{}\n", doc.dump());
    return 0;
  }
  fmt::print("speed-ups against {} in this run; written {}\n", o.methods.front(),
             (fs::path(o.out) / "compare_bench.json").string());
  // The networks cost the same untrained; what they detect, and so the detection
  // step's time (scoring, regression, NMS), does not.
  if (!untrained.empty())
    fmt::print("note: no trained model in {} for {}: timed with random weights, whose "
               "detections (and their post-processing time) differ from a trained model's; "
               "train them for the lesson's figures\n",
               o.models, fmt::format("{}", fmt::join(untrained, ", ")));
  return 0;
}

int run(const Options& o) {
  std::vector<Row> rows;
  // Every program and model first: a missing one is one line now, not an error after
  // the other methods' evals.
  for (const std::string& m : o.methods) {
    cli::program_path(cli::program_of(m));
    cli::model_of(m, o.models);
  }
  for (const std::string& m : o.methods) {
    if (!o.json) fmt::print(stderr, "compare: {} eval ...\n", m);
    rows.push_back(measure(m, o));
  }
  const Row& ref = rows.front();
  json table = json::array();
  std::vector<cli::MethodTiming> chart;
  for (const Row& r : rows) {
    const double speedup = r.test_seconds > 0 ? ref.test_seconds / r.test_seconds : -1;
    const double speedup_wo =
        r.without_proposals() > 0 ? ref.without_proposals() / r.without_proposals() : -1;
    table.push_back({{"method", r.method},
                     {"train_seconds", r.train_seconds},
                     {"test_seconds_per_image", r.test_seconds},
                     {"test_seconds_per_image_without_proposals", r.without_proposals()},
                     {"speedup", speedup},
                     {"speedup_without_proposals", speedup_wo},
                     {"voc_map50", r.voc_map50},
                     {"coco_ap", r.coco_ap},
                     {"mask_ap", r.mask_ap},
                     {"images", r.images}});
    chart.push_back({r.method, r.train_seconds, r.test_seconds, r.without_proposals(), r.voc_map50});
  }
  fs::create_directories(o.out);
  const std::string json_path = (fs::path(o.out) / "compare.json").string();
  write_file_atomic(json_path, json({{"methods", table}, {"reference", ref.method}}).dump(2) + "\n");
  write_file_atomic((fs::path(o.out) / "compare.svg").string(),
                    cli::svg_timing_bars("Training and test time, measured", chart));
  write_file_atomic((fs::path(o.out) / "compare_speed_accuracy.svg").string(),
                    cli::svg_speed_accuracy("Speed and accuracy", "VOC mAP@0.5", chart));
  json doc = {{"methods", table}, {"reference", ref.method}};
  if (o.plot == "tradeoff") {
    const std::string label = fmt::format(
        "measured here ({} scenes, {})", ref.images,
        o.threads > 0 ? fmt::format("{} thread{}", o.threads, o.threads > 1 ? "s" : "") : "CPU");
    write_file_atomic((fs::path(o.out) / "compare_tradeoff.svg").string(),
                      cli::svg_tradeoff("The speed/accuracy trade-off", chart, label));
    json papers = json::array();
    for (const cli::PaperResult& p : cli::paper_results())
      papers.push_back({{"method", p.program}, {"name", p.name}, {"voc_map50", p.voc_map50},
                        {"seconds_per_image", p.seconds_per_image}, {"source", p.source}});
    doc["papers"] = papers;
    write_file_atomic(json_path, doc.dump(2) + "\n");
  }
  if (!o.report.empty()) {
    std::vector<std::string> charts = {(fs::path(o.out) / "compare.svg").string(),
                                       (fs::path(o.out) / "compare_speed_accuracy.svg").string()};
    if (o.plot == "tradeoff") charts.push_back((fs::path(o.out) / "compare_tradeoff.svg").string());
    cli::write_report_page(o.report, "compare",
                           fmt::format("{} test images; speed-ups against {}", ref.images, ref.method),
                           {json_path}, doc, charts);
  }
  if (o.json) {
    fmt::print("{}\n", doc.dump());
    return 0;
  }
  fmt::print("{:<14} {:>10} {:>11} {:>16} {:>9} {:>13} {:>11} {:>8} {:>8}\n", "method", "train",
             "test/image", "w/o proposals", "speed-up", "(w/o prop.)", "VOC mAP@.5", "COCO AP",
             "mask AP");
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    fmt::print("{:<14} {:>10} {:>11} {:>16} {:>9} {:>13} {:>11} {:>8} {:>8}\n", r.method,
               cell(r.train_seconds, "{:.1f} s"), cell(r.test_seconds, "{:.4f} s"),
               cell(r.without_proposals(), "{:.4f} s"),
               cell(table[i]["speedup"].get<double>(), "{:.1f}x"),
               cell(table[i]["speedup_without_proposals"].get<double>(), "{:.1f}x"),
               cell(100 * r.voc_map50, "{:.1f}%"), cell(r.coco_ap, "{:.3f}"),
               cell(r.mask_ap, "{:.3f}"));
  }
  fmt::print("\n{} test images; speed-ups against {}; written {}, compare.svg, "
             "compare_speed_accuracy.svg{}\n",
             ref.images, ref.method, json_path,
             o.plot == "tradeoff" ? ", compare_tradeoff.svg" : "");
  if (o.plot == "tradeoff") {
    fmt::print("\nThe papers (VOC 2007 test, a GPU of their day):\n");
    fmt::print("{:<14} {:<14} {:>11} {:>10}  {}\n", "method", "paper", "test/image", "VOC mAP",
               "source");
    for (const cli::PaperResult& p : cli::paper_results())
      fmt::print("{:<14} {:<14} {:>11} {:>9.1f}%  {}\n", p.program, p.name,
                 fmt::format("{:.3g} s", p.seconds_per_image), 100 * p.voc_map50, p.source);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"compare: train/test time and accuracy of detectors, side by side (lesson 04)"};
  Options o;
  app.option("--methods", o.methods,
             "detlab programs (PROGRAM or PROGRAM:MODEL), comma-separated; the first is the "
             "reference (default with --plot tradeoff: every detector)").delimiter(',');
  app.option("--data", o.data, "dataset directory passed to each eval (default: theirs)");
  app.option("--models", o.models, "directory of the NAME.safetensors models");
  app.option("--out", o.out, "directory for compare.json and the SVG charts");
  app.option("--limit", o.limit, "evaluate on the first N test images").range(1, 1000000);
  app.option("--threads", o.threads, "OpenMP threads for each eval").range(0, 1024);
  app.option("--time-limit", o.time_limit, "seconds allowed per eval")
      .positive();
  app.flag("--json", o.json, "print the table as JSON on stdout");
  cli::add_report_flag(app, o.report);
  app.flag("--bench", o.bench,
           "test time only, from each program's `bench` (no accuracy; models optional)");
  app.option("--proposal-cache", o.proposal_cache,
             "read proposals from this disk cache (faster; 'with proposals' then omits "
             "computing them; default: computed in each eval)");
  app.option("--plot", o.plot, "tradeoff: the speed/accuracy figure beside the papers' numbers")
      .one_of({"tradeoff"});
  app.option("--geometry", o.geometry, "with --bench: scenes (each program's bench) or paper (VGG16, "
             "a photo at shorter side 600, 2000 proposals: the papers' scale)").one_of({"scenes", "paper"});
  app.option("--photo", o.photo, "the photo for --geometry paper");
  app.option("--shorter-side", o.paper.shorter_side, "--geometry paper: the photo's shorter side (600)")
      .range(32, 2000);
  if (int rc = cli::parse(app, argc, argv); rc >= 0) return rc;
  if (o.geometry == "paper")
    return cli::run_guarded([&] {
      cli::apply_threads(o.threads);
      const cli::PaperGeometryTimes t = cli::time_paper_geometry(load_image(o.photo, 3), o.paper);
      return cli::report_paper_geometry(t, o.photo, o.json, o.out);
    });
  if (o.methods.empty()) {
    if (o.plot != "tradeoff") {
      fmt::print(stderr, "compare: --methods is required (or --plot tradeoff)\n");
      return 2;
    }
    o.methods = {"rcnn", "spp_net", "fast_rcnn", "faster_rcnn", "yolo", "ssd"};
  }
  return cli::run_guarded([&] { return o.bench ? run_bench(o) : run(o); });
}
