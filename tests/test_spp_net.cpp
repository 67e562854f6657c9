// Lesson 04's SPP-net: the shared region SVM head's detection stage on a hand-made
// case (scores = SVM margins, regression, clipping, per-class NMS), the multi-scale
// window-to-scale choice (§4.2) on hand-computed areas, then bin/spp_net end to end on
// a tiny generated split (loss falls, metrics in range, 1-vs-2 thread model files
// identical, two scales, old single-scale model files) and bad inputs.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detection/scale_choice.h"
#include "models/region_svm_head.h"
#include "nn/checkpoint.h"
#include "nn/safetensors.h"
#include "program_checks.h"

using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

const detlab_test::Program spp{"spp_net"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("spp_net_data", 20, 6); }

}  // namespace

BOOST_AUTO_TEST_SUITE(region_svm_head)

// Two classes, two feature dims: class 0's SVM reads dim 0, class 1's dim 1 (bias -1).
// Regions: A (features 3, 0), B (2.5, 0) overlapping A, C (0, 0.5) far away.
BOOST_AUTO_TEST_CASE(detect_regions_hand_case) {
  Tensor f({3, 2});
  const float fv[] = {3, 0, 2.5f, 0, 0, 0.5f};
  std::copy(fv, fv + 6, f.data());
  const std::vector<Box> props = {{10, 10, 30, 30}, {11, 10, 31, 30}, {40, 40, 70, 60}};
  Tensor w({2, 2}), b({2});
  w[0] = 1, w[3] = 1;  // [[1, 0], [0, 1]]
  b[0] = -1, b[1] = -1;
  Tensor bw({2, 3, 4});  // zero: no box moves
  const models::RegionSvmHead head{&w, &b, &bw};
  models::RegionDetectOptions o;
  o.threshold = -0.75f;
  o.regress = true;
  models::RegionStageTimes t;
  const auto dets = models::detect_regions(f, props, head, 64, 64, o, &t);
  // Scores: A c0 2, A c1 -1 (dropped), B c0 1.5 (suppressed by A: IoU 0.9), B c1 -1
  // (dropped), C c0 -1 (dropped), C c1 -0.5 (kept, clipped to the 64-pixel image).
  BOOST_REQUIRE(dets.size() == 2u);
  BOOST_TEST(dets[0].cls == 0);
  BOOST_TEST(dets[0].score == 2.0f);
  BOOST_TEST(dets[0].box.x1 == 10.0f);
  BOOST_TEST(dets[1].cls == 1);
  BOOST_TEST(dets[1].score == -0.5f);
  BOOST_TEST(dets[1].box.x2 == 64.0f);
  // A class-0 regressor whose bias row shifts boxes right by 0.5 widths (tx = 0.5).
  bw[2 * 4 + 0] = 0.5f;  // row D (bias) of class 0, column tx
  const auto moved = models::detect_regions(f, props, head, 64, 64, o, &t);
  BOOST_REQUIRE(moved.size() == 2u);
  BOOST_TEST(moved[0].box.x1 == 20.0f, boost::test_tools::tolerance(1e-4f));
  BOOST_TEST(moved[0].box.x2 == 40.0f, boost::test_tools::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(norm20_scale_hand_case) {
  Tensor a({2, 2});
  a[0] = 3, a[1] = 4;  // norm 5
  a[2] = 0, a[3] = 0;  // norm 0
  BOOST_TEST(models::norm20_scale({a}, 2) == 8.0f);  // mean norm 2.5 -> 20
  BOOST_TEST(models::norm20_scale({}, 2) == 1.0f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scale_choice)

// Target 28 x 28 = 784 pixels, scales {0.5, 1, 2} (areas scale by 0.25, 1, 4).
BOOST_AUTO_TEST_CASE(window_picks_scale_with_area_closest_to_target) {
  const std::vector<float> s = {0.5f, 1.0f, 2.0f};
  // 56 x 56 = 3136 -> 784 / 3136 / 12544: exactly the target at 0.5.
  BOOST_TEST(choose_scale({0, 0, 56, 56}, s, 28) == 0);
  // 14 x 14 = 196 -> 49 / 196 / 784: the target at 2.
  BOOST_TEST(choose_scale({10, 10, 24, 24}, s, 28) == 2);
  // 28 x 28 stays.
  BOOST_TEST(choose_scale({3, 5, 31, 33}, s, 28) == 1);
  // 40 x 40 = 1600 -> 400 (|d| 384) / 1600 (816): 0.5.
  BOOST_TEST(choose_scale({0, 0, 40, 40}, s, 28) == 0);
  // 30 x 30 = 900 -> 225 (559) / 900 (116): 1.
  BOOST_TEST(choose_scale({0, 0, 30, 30}, s, 28) == 1);
  // 20 x 20 = 400 -> 100 (|d| 684) / 400 (384) / 1600 (816): 1.
  BOOST_TEST(choose_scale({0, 0, 20, 20}, s, 28) == 1);
  // 16 x 16 = 256 -> 64 (720) / 256 (528) / 1024 (240): 2.
  BOOST_TEST(choose_scale({0, 0, 16, 16}, s, 28) == 2);
  // Areas, not sides, are compared: a long thin 8 x 98 window has the target's 784
  // pixels at scale 1 (its sides are far from 28 at every scale).
  BOOST_TEST(choose_scale({0, 0, 8, 98}, s, 28) == 1);
  // The order of `scales` does not matter, only the index follows it.
  BOOST_TEST(choose_scale({0, 0, 56, 56}, {2.0f, 0.5f, 1.0f}, 28) == 1);
  // A tie (8 x 20 = 160 -> 160 and 640, both 240 from 400) goes to the first scale.
  BOOST_TEST(choose_scale({0, 0, 8, 20}, {1.0f, 2.0f}, 20) == 0);
  // Degenerate windows go to the largest scale; one scale is always chosen.
  BOOST_TEST(choose_scale({5, 5, 5, 9}, s, 28) == 2);
  BOOST_TEST(choose_scale({0, 0, 500, 500}, {1.0f}, 28) == 0);
  BOOST_CHECK_THROW(choose_scale({0, 0, 4, 4}, {}, 28), std::exception);
  BOOST_CHECK_THROW(choose_scale({0, 0, 4, 4}, {1.0f, 0.0f}, 28), std::exception);
}

BOOST_AUTO_TEST_CASE(scale_box_scales_each_axis) {
  const Box b = scale_box({10, 20, 30, 60}, 0.5f, 2.0f);
  BOOST_TEST(b.x1 == 5.0f);
  BOOST_TEST(b.y1 == 40.0f);
  BOOST_TEST(b.x2 == 15.0f);
  BOOST_TEST(b.y2 == 120.0f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(spp_net_program)

BOOST_AUTO_TEST_CASE(tiny_train_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("spp_net_run");
  const std::string model = dir + "/m.safetensors", cache = dir + "/cache";
  const json tj = detlab_test::train_on_1_and_2_threads(
      spp,
      "train --scratch --quiet --epochs 3 --steps-per-epoch 15 --batch 32 --data " + data +
          " --cache-dir " + cache,
      dir);
  BOOST_TEST(tj["proposals_per_image"].get<double>() > 5);
  BOOST_TEST(tj["seconds"]["finetune"].get<double>() > 0);
  const double l0 = tj["first_epoch_loss"].get<double>(), l1 = tj["last_epoch_loss"].get<double>();
  BOOST_TEST((l0 > 0.3 && l0 < 5), "first loss " << l0);  // ~log 11 = 2.4 at the start
  BOOST_TEST(l1 < l0, "loss " << l0 << " -> " << l1);
  const double acc = tj["test_window_accuracy"].get<double>();
  BOOST_TEST((acc >= 0 && acc <= 1));
  const auto meta = nn::read_checkpoint_metadata(model);
  const json cfg = json::parse(meta.at("config"));
  BOOST_TEST(cfg["arch"].get<std::string>() == "spp_net");
  BOOST_TEST(cfg["feature_scale"].get<double>() > 0);
  BOOST_TEST(json::parse(meta.at("classes")).size() == 10u);

  const json ej = detlab_test::json_output(spp(
      "eval --json --threads 1 --data " + data + " --model " + model + " --cache-dir " + cache,
      dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  detlab_test::check_ap_in_range(ej);
  BOOST_TEST(ej["seconds_per_image"].get<double>() > 0);
  BOOST_TEST(ej["proposal_seconds_per_image"].get<double>() >= 0);

  detlab_test::predict_tiny_scene(
      spp, data, "--threshold -100 --model " + model + " --cache-dir " + cache, dir);

  const json bj = detlab_test::bench_tiny_scenes(
      spp, data, "--model " + model, {"proposals", "conv", "spp", "fc", "svm", "regression", "nms"},
      dir)["seconds_per_image"];
  BOOST_TEST(bj["conv"].get<double>() > 0);
}

// Two scales end to end: stored in the model, used by eval and bench (one conv line per
// scale, every window pooled at exactly one); a model file from before multi-scale (no
// "scales" key) evaluates exactly as a --scales 1 model.
BOOST_AUTO_TEST_CASE(two_scales_and_old_single_scale_models) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("spp_net_scales");
  const std::string cache = dir + "/cache";
  const std::string common = "train --scratch --quiet --json --threads 1 --epochs 2 "
                             "--steps-per-epoch 10 --batch 32 --data " + data +
                             " --cache-dir " + cache;
  const std::string m2 = dir + "/two.safetensors";
  const json tj = detlab_test::json_output(spp(common + " --scales 1,0.5 --model " + m2, dir));
  BOOST_REQUIRE(tj["proposal_windows_per_scale"].size() == 2u);
  const json cfg = json::parse(nn::read_checkpoint_metadata(m2).at("config"));
  BOOST_TEST((cfg["scales"] == json({0.5, 1.0})));  // sorted
  BOOST_TEST(cfg["target_size"].get<double>() == 28.0);
  const double map2 = detlab_test::json_output(spp("eval --json --threads 1 --data " + data +
                                                       " --model " + m2 + " --cache-dir " + cache,
                                                   dir))["voc_map50"]
                          .get<double>();
  BOOST_TEST((map2 >= 0 && map2 <= 1));
  const json bj = detlab_test::json_output(
      spp("bench --json --threads 1 --limit 2 --data " + data + " --model " + m2, dir));
  BOOST_REQUIRE(bj["per_scale"].size() == 2u);
  double windows = 0;
  for (const auto& r : bj["per_scale"]) {
    BOOST_TEST(r["conv"].get<double>() > 0);
    windows += r["windows"].get<double>();
  }
  BOOST_TEST(windows == bj["proposals_per_image"].get<double>(), boost::test_tools::tolerance(1e-9));
  BOOST_TEST(bj["per_scale"][0]["conv"].get<double>() <=
             bj["seconds_per_image"]["conv"].get<double>());
  Run bt = spp("bench --threads 1 --limit 1 --data " + data + " --model " + m2, dir);
  BOOST_REQUIRE_MESSAGE(bt.status == 0, bt.err);
  BOOST_TEST(bt.out.find("conv x2") != std::string::npos, bt.out);

  // --scales 1 vs the same file without the multi-scale keys (as written before them).
  const std::string m1 = dir + "/one.safetensors", old = dir + "/old.safetensors";
  Run t1 = spp(common + " --scales 1 --model " + m1, dir);
  BOOST_REQUIRE_MESSAGE(t1.status == 0, t1.err);
  SafeTensors st = load_safetensors(m1);
  json c1 = json::parse(st.metadata.at("config"));
  BOOST_TEST((c1["scales"] == json({1.0})));
  c1.erase("scales");
  c1.erase("target_size");
  st.metadata["config"] = c1.dump();
  save_safetensors(old, st.tensors, st.metadata);
  std::string outs[2];
  for (int i = 0; i < 2; ++i) {
    const json j = detlab_test::json_output(spp("eval --json --threads 1 --data " + data +
                                                    " --model " + (i ? old : m1) +
                                                    " --cache-dir " + cache,
                                                dir));
    outs[i] = j["per_class"].dump() + j["coco_stats"].dump();
  }
  BOOST_TEST(outs[0] == outs[1]);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("spp_net_bad");
  detlab_test::check_region_detector_bad_inputs(spp, data, dir, "not an spp_net model");

  const std::string model = detlab_test::train_minimal_svm_detector(spp, data, dir);
  detlab_test::check_broken_image(spp, "predict --cache-dir '' --model " + model, dir);

  // A missing --pretrained file names it too.
  detlab_test::check_exit_1_naming(spp("train --quiet --limit 2 --cache-dir '' --data " + data +
                                           " --pretrained " + dir + "/nope.safetensors --model " +
                                           dir + "/y.safetensors",
                                       dir),
                                   "nope.safetensors");
  for (const char* bad : {"0", "-1", "0.5,0", "1,-0.5", "100", "nan"}) {
    Run s = spp(std::string("train --scales ") + bad, dir);
    BOOST_TEST(s.status == 2, bad);
    BOOST_TEST(s.err.find("--scales") != std::string::npos, s.err);
    BOOST_TEST(detlab_test::count_lines(s.err) == 1, s.err);
  }
  detlab_test::check_usage_errors(spp, dir, {"train --levels 0", "eval --preset best", "predict"});
}

BOOST_AUTO_TEST_SUITE_END()
