// compare: runs each named program's eval, reads its training log, builds the table
// and charts; and refuses unknown programs and missing models with one line.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "run_program.h"
#include "util/files.h"

using detlab_test::Run;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {
Run compare(const std::string& args, const std::string& dir) {
  return detlab_test::run_program("compare", args, dir);
}
}  // namespace

BOOST_AUTO_TEST_CASE(table_json_and_charts_from_two_runs_of_a_detector) {
  const std::string dir = detlab_test::temp_dir("compare");
  const std::string data = detlab_test::make_tiny_scenes("compare_data", 32, 4);
  fs::create_directories(dir + "/models");
  Run t = detlab_test::run_program(
      "sliding_window",
      "train --scratch --quiet --epochs 2 --batch 32 --threads 1 --scales 20,40 --data " + data +
          " --model " + dir + "/models/sliding_window.safetensors",
      dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  const std::vector<double> epoch_seconds =
      detlab_test::csv_column(dir + "/models/sliding_window.csv", 4);
  BOOST_REQUIRE_EQUAL(epoch_seconds.size(), 2u);

  Run c = compare("--methods sliding_window,sliding_window --json --threads 1 --data " + data +
                      " --models " + dir + "/models --out " + dir + "/out",
                  dir);
  BOOST_REQUIRE_MESSAGE(c.status == 0, c.err);
  const json j = json::parse(c.out);
  BOOST_REQUIRE_EQUAL(j["methods"].size(), 2u);
  BOOST_TEST(j["reference"] == "sliding_window");
  const json& first = j["methods"][0];
  BOOST_TEST(first["speedup"].get<double>() == 1.0);
  BOOST_TEST(first["images"].get<int>() == 4);
  // Training time = the epochs' seconds in the log.
  BOOST_TEST(first["train_seconds"].get<double>() ==
                 epoch_seconds[0] + epoch_seconds[1],
             boost::test_tools::tolerance(1e-6));
  for (const json& m : j["methods"]) {
    BOOST_TEST(m["voc_map50"].get<double>() >= 0.0);
    BOOST_TEST(m["voc_map50"].get<double>() <= 1.0);
    BOOST_TEST(m["test_seconds_per_image"].get<double>() > 0.0);
    // No proposals in a sliding-window detector: both test times are the same.
    BOOST_TEST(m["test_seconds_per_image_without_proposals"].get<double>() ==
               m["test_seconds_per_image"].get<double>());
  }
  // Same model, same images: the same accuracy.
  BOOST_TEST(j["methods"][1]["voc_map50"].get<double>() == first["voc_map50"].get<double>());
  const json file = json::parse(dl::read_file_text(dir + "/out/compare.json"));
  BOOST_TEST(file["methods"].size() == 2u);
  const std::string bars = dl::read_file_text(dir + "/out/compare.svg");
  BOOST_TEST(bars.find("sliding_window") != std::string::npos);
  BOOST_TEST(bars.find("Test time per image") != std::string::npos);
  BOOST_TEST(bars.find("without proposals") != std::string::npos);
  // Three panels (training, test, test without proposals) of one bar per method.
  size_t rects = 0;
  for (size_t at = bars.find("<rect x="); at != std::string::npos; at = bars.find("<rect x=", at + 1))
    ++rects;
  BOOST_TEST(rects == 3u * 2u);
  BOOST_TEST(bars.rfind("</svg>") != std::string::npos);
  BOOST_TEST(dl::read_file_text(dir + "/out/compare_speed_accuracy.svg").find("<circle") !=
             std::string::npos);

  // --plot tradeoff: the measured panel (one circle: a sliding-window detector is not
  // one-shot) beside the papers' six methods (four two-stage circles, YOLO's and SSD's
  // squares), and the papers' rows in compare.json, each with its source.
  Run p = compare("--methods sliding_window --plot tradeoff --json --threads 1 --data " + data +
                      " --models " + dir + "/models --out " + dir + "/out",
                  dir);
  BOOST_REQUIRE_MESSAGE(p.status == 0, p.err);
  const json pj = json::parse(p.out);
  BOOST_REQUIRE_EQUAL(pj["papers"].size(), 6u);
  for (const json& r : pj["papers"]) {
    BOOST_TEST(!r["source"].get<std::string>().empty());
    BOOST_TEST(r["seconds_per_image"].get<double>() > 0.0);
  }
  const std::string tradeoff = dl::read_file_text(dir + "/out/compare_tradeoff.svg");
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = tradeoff.find(what); at != std::string::npos; at = tradeoff.find(what, at + 1)) ++n;
    return n;
  };
  BOOST_TEST(count("<circle") == 1u + 4u);
  BOOST_TEST(count("<rect x=") == 2u);
  BOOST_TEST(tradeoff.find(">sliding_window<") != std::string::npos);
  BOOST_TEST(tradeoff.find(">SSD300<") != std::string::npos);
  BOOST_TEST(compare("--methods sliding_window --plot bars", dir).status == 2);
  // Without --methods, every detector: a missing one is named before any eval runs.
  Run all = compare("--plot tradeoff --models " + dir + "/empty", dir);
  BOOST_TEST(all.status == 1);
  BOOST_TEST(all.err.find("empty/rcnn.safetensors") != std::string::npos, all.err);

  // Bad input: an unknown program, a missing model, no --methods.
  Run u = compare("--methods no_such_detector --models " + dir + "/models", dir);
  BOOST_TEST(u.status == 1);
  BOOST_TEST(u.err.find("no_such_detector") != std::string::npos, u.err);
  Run m = compare("--methods sliding_window --models " + dir + "/empty", dir);
  BOOST_TEST(m.status == 1);
  BOOST_TEST(m.err.find("empty/sliding_window.safetensors") != std::string::npos, m.err);
  BOOST_TEST(detlab_test::count_lines(m.err.substr(m.err.find("error:"))) == 1);
  BOOST_TEST(compare("--limit 3", dir).status == 2);
  // --bench: the same one-line error for an unknown program, and for a dataset that is
  // not there (the program's own error, passed on with the program's name).
  Run ub = compare("--bench --methods no_such_detector", dir);
  BOOST_TEST(ub.status == 1);
  BOOST_TEST(ub.err.find("no_such_detector") != std::string::npos, ub.err);
  BOOST_TEST(detlab_test::count_lines(ub.err.substr(ub.err.find("error:"))) == 1);
  Run nd = compare("--bench --methods sliding_window --data " + dir + "/no_data", dir);
  BOOST_TEST(nd.status == 1);
  BOOST_TEST(nd.err.find("sliding_window") != std::string::npos, nd.err);
  BOOST_TEST(detlab_test::count_lines(nd.err.substr(nd.err.find("error:"))) == 1);
  fs::remove_all(dir);
}

// A proposal-based detector: by default its eval computes the proposals (the lecture's
// "with proposals" column includes them), so nothing is cached; --proposal-cache DIR
// reads and fills a cache instead, and the two runs agree on accuracy.
BOOST_AUTO_TEST_CASE(proposals_computed_unless_a_cache_is_named) {
  const std::string dir = detlab_test::temp_dir("compare_proposals");
  const std::string data = detlab_test::make_tiny_scenes("compare_proposals_data", 8, 3);
  fs::create_directories(dir + "/models");
  Run t = detlab_test::run_program(
      "fast_rcnn",
      "train --scratch --quiet --epochs 1 --threads 1 --val-images 2 --data " + data +
          " --model " + dir + "/models/fast_rcnn.safetensors --cache-dir " + dir + "/train_cache",
      dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);

  const std::string common = "--methods fast_rcnn --json --threads 1 --data " + data +
                             " --models " + dir + "/models --out " + dir + "/out";
  Run computed = compare(common, dir);
  BOOST_REQUIRE_MESSAGE(computed.status == 0, computed.err);
  const json a = json::parse(computed.out)["methods"][0];
  BOOST_TEST(a["test_seconds_per_image_without_proposals"].get<double>() <
             a["test_seconds_per_image"].get<double>());
  BOOST_TEST(a["images"].get<int>() == 3);

  Run cached = compare(common + " --proposal-cache " + dir + "/eval_cache", dir);
  BOOST_REQUIRE_MESSAGE(cached.status == 0, cached.err);
  BOOST_TEST(fs::exists(dir + "/eval_cache"));
  BOOST_TEST(!fs::is_empty(dir + "/eval_cache"));
  const json b = json::parse(cached.out)["methods"][0];
  BOOST_TEST(b["voc_map50"].get<double>() == a["voc_map50"].get<double>());

  // --bench: test times from each program's bench; a missing model is timed with random
  // weights (spp_net here), and the ratios are against the first method.
  Run bench = compare("--bench --methods fast_rcnn,spp_net --json --threads 1 --limit 2 --data " +
                          data + " --models " + dir + "/models --out " + dir + "/out",
                      dir);
  BOOST_REQUIRE_MESSAGE(bench.status == 0, bench.err);
  const json bj = json::parse(bench.out);
  BOOST_REQUIRE_EQUAL(bj["methods"].size(), 2u);
  BOOST_TEST(bj["methods"][0]["speedup"].get<double>() == 1.0);
  BOOST_TEST(bj["methods"][0]["model"].get<std::string>().find("fast_rcnn.safetensors") !=
             std::string::npos);
  BOOST_TEST(bj["methods"][1]["model"] == "random weights");
  for (const json& m : bj["methods"]) {
    const double total = m["test_seconds_per_image"].get<double>();
    const double without = m["test_seconds_per_image_without_proposals"].get<double>();
    BOOST_TEST(without > 0.0);
    BOOST_TEST(without < total);  // the proposals are computed, and take time
  }
  const double ratio = bj["methods"][0]["test_seconds_per_image"].get<double>() /
                       bj["methods"][1]["test_seconds_per_image"].get<double>();
  BOOST_TEST(bj["methods"][1]["speedup"].get<double>() == ratio, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(fs::exists(dir + "/out/compare_bench.json"));
  fs::remove_all(dir);
}

// --geometry paper: the four methods at the papers' scale on a photo (here at a shorter
// side of 128, so the test is quick). What must hold whatever the machine: R-CNN's network time is
// its sampled crops scaled by the proposal count, each of which costs a VGG16 pass on
// 224 x 224, so it is the slowest without proposals; the first three share Selective
// Search's time; Faster R-CNN keeps at most 300 proposals; the files are written.
BOOST_AUTO_TEST_CASE(paper_geometry_times_the_four_methods) {
  const std::string dir = detlab_test::temp_dir("compare_paper");
  const std::string photo = "data/samples/skimage/coffee.png";  // 400 x 600 -> 128 x 192
  Run c = compare("--bench --geometry paper --shorter-side 128 --json --threads 1 --photo " +
                      std::string(DETLAB_SOURCE_DIR) + "/" + photo + " --out " + dir + "/out",
                  dir);
  BOOST_REQUIRE_MESSAGE(c.status == 0, c.err);
  const json j = json::parse(c.out);
  BOOST_TEST(std::min(j["width"].get<int>(), j["height"].get<int>()) == 128);
  const json& m = j["methods"];
  BOOST_REQUIRE_EQUAL(m.size(), 4u);
  BOOST_TEST(m[0]["method"] == "rcnn");
  BOOST_TEST(m[0]["extrapolated"] == true);
  const int n = std::min(2000, j["selective_search_boxes"].get<int>());
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(m[i]["proposals_per_image"] == n);
    BOOST_TEST(m[i]["test_seconds_per_image"].get<double>() - m[i]["test_seconds_per_image_without_proposals"].get<double>() ==
               m[0]["test_seconds_per_image"].get<double>() - m[0]["test_seconds_per_image_without_proposals"].get<double>(),
               boost::test_tools::tolerance(1e-9));
  }
  BOOST_TEST(m[3]["proposals_per_image"].get<int>() <= 300);
  for (int i = 1; i < 4; ++i)
    BOOST_TEST(m[0]["test_seconds_per_image_without_proposals"].get<double>() >
               m[i]["test_seconds_per_image_without_proposals"].get<double>());
  BOOST_TEST(fs::exists(dir + "/out/compare_paper_geometry.svg"));
  BOOST_TEST(fs::exists(dir + "/out/compare_paper_geometry.json"));
  // A photo that is not there: one line naming it, exit 1.
  Run bad = compare("--bench --geometry paper --photo " + dir + "/none.jpg", dir);
  BOOST_TEST(bad.status == 1);
  BOOST_TEST(bad.err.find(dir + "/none.jpg") != std::string::npos, bad.err);
}
