// Lesson 04's SPP-net: the shared region classifier's detection stage on a hand-made
// case (scores = SVM margins, regression, clipping, per-class NMS), then bin/spp_net
// end to end on a tiny generated split (loss falls, metrics in range, 1-vs-2 thread
// model files identical) and bad inputs.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "image/image.h"
#include "lessons/common/region_classifier.h"
#include "nn/checkpoint.h"
#include "nn/small_cnn.h"
#include "run_program.h"
#include "tensor/rng.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

Run spp(const std::string& args, const std::string& dir) {
  return detlab_test::run_program("spp_net", args, dir);
}

const std::string& tiny_data() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = detlab_test::make_tiny_scenes("spp_net_data", 20, 6);
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(region_classifier)

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
  cli::RegionDetectOptions o;
  o.threshold = -0.75f;
  o.regress = true;
  cli::RegionStageTimes t;
  const auto dets = cli::detect_regions(f, props, w, b, bw, 64, 64, o, t);
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
  const auto moved = cli::detect_regions(f, props, w, b, bw, 64, 64, o, t);
  BOOST_REQUIRE(moved.size() == 2u);
  BOOST_TEST(moved[0].box.x1 == 20.0f, boost::test_tools::tolerance(1e-4f));
  BOOST_TEST(moved[0].box.x2 == 40.0f, boost::test_tools::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(norm20_scale_hand_case) {
  Tensor a({2, 2});
  a[0] = 3, a[1] = 4;  // norm 5
  a[2] = 0, a[3] = 0;  // norm 0
  BOOST_TEST(cli::norm20_scale({a}, 2) == 8.0f);  // mean norm 2.5 -> 20
  BOOST_TEST(cli::norm20_scale({}, 2) == 1.0f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(spp_net_program)

BOOST_AUTO_TEST_CASE(tiny_train_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("spp_net_run");
  const std::string model = dir + "/m.safetensors", cache = dir + "/cache";
  const std::string common = "train --scratch --quiet --epochs 3 --steps-per-epoch 15 --batch 32 "
                             "--data " + data + " --cache-dir " + cache;
  Run t = spp(common + " --json --threads 1 --model " + model, dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  const json tj = json::parse(t.out);
  BOOST_TEST(tj["proposals_per_image"].get<double>() > 5);
  BOOST_TEST(tj["seconds"]["finetune"].get<double>() > 0);
  const double l0 = tj["first_epoch_loss"].get<double>(), l1 = tj["last_epoch_loss"].get<double>();
  BOOST_TEST((l0 > 0.3 && l0 < 5), "first loss " << l0);  // ~log 11 = 2.4 at the start
  BOOST_TEST(l1 < l0, "loss " << l0 << " -> " << l1);
  const double acc = tj["test_window_accuracy"].get<double>();
  BOOST_TEST((acc >= 0 && acc <= 1));
  BOOST_TEST(fs::exists(dir + "/m.csv"));
  BOOST_TEST(json::parse(read_file_text(dir + "/m.train.json"))["train_seconds"].get<double>() > 0);
  Run t2 = spp(common + " --threads 2 --model " + dir + "/m2.safetensors", dir);
  BOOST_REQUIRE_MESSAGE(t2.status == 0, t2.err);
  BOOST_TEST((read_file_bytes(model) == read_file_bytes(dir + "/m2.safetensors")));
  const auto meta = nn::read_checkpoint_metadata(model);
  const json cfg = json::parse(meta.at("config"));
  BOOST_TEST(cfg["arch"].get<std::string>() == "spp_net");
  BOOST_TEST(cfg["feature_scale"].get<double>() > 0);
  BOOST_TEST(json::parse(meta.at("classes")).size() == 10u);

  Run e = spp("eval --json --threads 1 --data " + data + " --model " + model + " --cache-dir " +
                  cache,
              dir);
  BOOST_REQUIRE_MESSAGE(e.status == 0, e.err);
  const json ej = json::parse(e.out);
  BOOST_TEST(ej["images"].get<int>() == 6);
  const double map = ej["voc_map50"].get<double>(), ap = ej["coco_ap"].get<double>();
  BOOST_TEST((map >= 0 && map <= 1), "mAP " << map);
  BOOST_TEST((ap >= 0 && ap <= 1), "AP " << ap);
  BOOST_TEST(ej["seconds_per_image"].get<double>() > 0);
  BOOST_TEST(ej["proposal_seconds_per_image"].get<double>() >= 0);

  const std::string img = data + "/test/images/000001.png";
  Run p = spp("predict --json --threads 1 --threshold -100 --model " + model + " --out " + dir +
                  "/pred --cache-dir " + cache + " " + img,
              dir);
  BOOST_REQUIRE_MESSAGE(p.status == 0, p.err);
  const json pj = json::parse(p.out);
  BOOST_TEST(pj[0]["detections"].size() >= 1u);
  BOOST_TEST(pj[0]["detections"].size() <= 100u);
  for (const auto& d : pj[0]["detections"]) {
    const auto bx = d["box_xyxy"];
    BOOST_TEST((bx[0].get<float>() >= 0 && bx[2].get<float>() <= 64 && bx[0] < bx[2]));
  }

  Run b = spp("bench --json --threads 1 --limit 2 --data " + data + " --model " + model, dir);
  BOOST_REQUIRE_MESSAGE(b.status == 0, b.err);
  const json bj = json::parse(b.out)["seconds_per_image"];
  for (const char* k : {"proposals", "conv", "spp", "fc", "svm", "regression", "nms"})
    BOOST_TEST(bj[k].get<double>() >= 0, k);
  BOOST_TEST(bj["conv"].get<double>() > 0);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("spp_net_bad");
  const std::string img = data + "/test/images/000001.png";
  Run m = spp("eval --data " + data + " --model " + dir + "/missing.safetensors", dir);
  BOOST_TEST(m.status == 1);
  BOOST_TEST(m.err.find("missing.safetensors") != std::string::npos, m.err);
  BOOST_TEST(detlab_test::count_lines(m.err) == 1);

  Rng rng(1);
  nn::SmallCnn cnn(nn::SmallCnnConfig{}, rng);
  nn::save_checkpoint(dir + "/classify.safetensors", cnn,
                      {{"config", nn::SmallCnnConfig{}.to_json()}, {"classes", "[]"}});
  Run o = spp("predict --model " + dir + "/classify.safetensors " + img, dir);
  BOOST_TEST(o.status == 1);
  BOOST_TEST(o.err.find("classify.safetensors") != std::string::npos, o.err);
  BOOST_TEST(o.err.find("not an spp_net model") != std::string::npos, o.err);
  BOOST_TEST(detlab_test::count_lines(o.err) == 1);

  const std::string model = dir + "/r.safetensors";
  Run t = spp("train --scratch --quiet --epochs 1 --steps-per-epoch 1 --batch 8 --threads 1 "
              "--limit 3 --svm-rounds 0 --cache-dir '' --data " + data + " --model " + model,
              dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  write_file_atomic(dir + "/broken.png", std::string("not a png at all"));
  Run i = spp("predict --cache-dir '' --model " + model + " " + dir + "/broken.png", dir);
  BOOST_TEST(i.status == 1);
  BOOST_TEST(i.err.find("broken.png") != std::string::npos, i.err);
  BOOST_TEST(detlab_test::count_lines(i.err) == 1);

  Run d = spp("train --scratch --data " + dir + "/no_scenes --model " + dir + "/x.safetensors",
              dir);
  BOOST_TEST(d.status == 1);
  BOOST_TEST(d.err.find("no_scenes") != std::string::npos, d.err);
  BOOST_TEST(detlab_test::count_lines(d.err) == 1);
  // A missing --pretrained file names it too.
  Run pr = spp("train --quiet --limit 2 --cache-dir '' --data " + data + " --pretrained " + dir +
                   "/nope.safetensors --model " + dir + "/y.safetensors",
               dir);
  BOOST_TEST(pr.status == 1);
  BOOST_TEST(pr.err.find("nope.safetensors") != std::string::npos, pr.err);
  BOOST_TEST(spp("train --levels 0", dir).status == 2);
  BOOST_TEST(spp("eval --preset best", dir).status == 2);
  BOOST_TEST(spp("predict", dir).status == 2);
}

BOOST_AUTO_TEST_SUITE_END()
