// Lesson 03's sliding windows: the window count of a pyramid worked out by hand, the
// fully convolutional scan giving the very scores of the crop-by-crop scan (OverFeat's
// point), a tiny training run whose loss falls, and bad inputs failing cleanly.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "detection/sliding_windows.h"
#include "image/draw.h"
#include "image/image.h"
#include "nn/checkpoint.h"
#include "nn/crop_classifier.h"
#include "nn/small_cnn.h"
#include "run_program.h"
#include "tensor/ops.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

Run sw(const std::string& args, const std::string& dir) {
  return detlab_test::run_program("sliding_window", args, dir);
}

// A random RGB image: every window looks different, so a scan reading the wrong
// position of the score map cannot agree with the crops by accident.
Image random_image(int w, int h, uint64_t seed) {
  Image img(w, h, 3);
  Rng rng(seed);
  for (auto& p : img.pixels) p = static_cast<uint8_t>(rng.below(256));
  for (int i = 0; i < 12; ++i) {  // coloured blocks: windows differ, not just noise
    const float x = rng.uniform(0, float(w)), y = rng.uniform(0, float(h));
    fill_rect(img, x, y, x + rng.uniform(4, 20), y + rng.uniform(4, 20),
              {uint8_t(rng.below(256)), uint8_t(rng.below(256)), uint8_t(rng.below(256))});
  }
  return img;
}

// A random crop classifier whose scores vary a lot between windows (the initial
// head is almost silent: its softmax would be ~1/11 everywhere).
std::unique_ptr<nn::CropClassifier> lively_model(uint64_t seed) {
  Rng rng(seed);
  auto m = std::make_unique<nn::CropClassifier>(nn::CropClassifierConfig{}, rng);
  for (auto& [name, p] : m->named_parameters())
    if (name.rfind("head.3.", 0) == 0)
      for (float& w : p.value()) w *= 100.0f;
  for (auto& [name, b] : m->named_buffers())
    if (name.find("running_var") != std::string::npos)
      for (float& v : *b) v = 0.5f + rng.uniform();
  return m;
}

// A tiny scenes train/test pair, made once per test process.
const std::string& tiny_data() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = detlab_test::make_tiny_scenes("sliding_window_data", 64, 8);
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sliding_windows)

BOOST_AUTO_TEST_CASE(window_count_of_a_pyramid_by_hand) {
  SlidingWindowConfig c;
  c.crop_size = 22;
  c.stride = 4;
  c.scales = {22, 44};
  c.aspects = {1, 2};
  const auto levels = make_pyramid(128, 128, c);
  BOOST_REQUIRE_EQUAL(levels.size(), 4u);
  // side 22, aspect 1: the image itself; (128 - 22) / 4 + 1 = 27 windows a row.
  BOOST_TEST(levels[0].width == 128);
  BOOST_TEST(levels[0].nx == 27);
  BOOST_TEST(levels[0].count() == 27 * 27);
  // side 22, aspect 2: a 15.56 x 31.11 window; the level is round(128 * 22 / 15.56) =
  // 181 wide, round(128 * 22 / 31.11) = 91 high: (181-22)/4+1 = 40 by (91-22)/4+1 = 18.
  BOOST_TEST(levels[1].width == 181);
  BOOST_TEST(levels[1].height == 91);
  BOOST_TEST(levels[1].count() == 40 * 18);
  // side 44, aspect 1: the image halved, 64 x 64: (64 - 22) / 4 + 1 = 11.
  BOOST_TEST(levels[2].count() == 11 * 11);
  // side 44, aspect 2: 91 x 45 -> 18 x 6.
  BOOST_TEST(levels[3].width == 91);
  BOOST_TEST(levels[3].height == 45);
  BOOST_TEST(levels[3].count() == 18 * 6);
  BOOST_TEST(count_windows(levels) == 729 + 720 + 121 + 108);
  BOOST_TEST(levels[3].first == 729 + 720 + 121);
  BOOST_TEST(all_window_boxes(levels).size() == 1678u);

  // Window (1, 2) of the half-size level is 44 x 44 at (8, 16) in the image.
  const Box b = window_box(levels[2], 1, 2);
  BOOST_TEST(b.x1 == 8.0f);
  BOOST_TEST(b.y1 == 16.0f);
  BOOST_TEST(b.x2 == 52.0f);
  BOOST_TEST(b.y2 == 60.0f);

  // Stride 8 halves the windows per row (rounding down); a level smaller than the
  // crop has none.
  c.stride = 8;
  c.aspects = {1};
  c.scales = {22, 200};
  const auto coarse = make_pyramid(128, 128, c);
  BOOST_TEST(coarse[0].count() == 14 * 14);  // (128 - 22) / 8 + 1 = 14
  BOOST_TEST(coarse[1].width == 14);
  BOOST_TEST(coarse[1].count() == 0);

  c.stride = 0;
  BOOST_CHECK_THROW(make_pyramid(128, 128, c), std::invalid_argument);
  c.stride = 4;
  c.scales = {1};
  BOOST_CHECK_THROW(make_pyramid(1000, 1000, c), std::invalid_argument);  // 22000-px level
}

BOOST_AUTO_TEST_CASE(conv_scan_scores_equal_crop_scores) {
  auto model = lively_model(3);
  const Image img = random_image(53, 41, 9);
  for (int stride : {4, 8}) {
    SlidingWindowConfig c;
    c.crop_size = model->config.input_size;
    c.stride = stride;
    c.scales = {22, 30};
    c.aspects = {1, 0.5f};
    const auto levels = make_pyramid(img.width, img.height, c);
    const auto crops = nn::score_windows(*model, img, levels, nn::ScanMode::Crops, 16);
    const auto conv = nn::score_windows(*model, img, levels, nn::ScanMode::Conv);
    BOOST_REQUIRE_EQUAL(crops.windows, count_windows(levels));
    BOOST_REQUIRE(crops.probs.shape() == conv.probs.shape());
    BOOST_TEST(crops.positions == crops.windows);  // one network pass per crop
    BOOST_TEST(max_abs_diff(crops.probs, conv.probs) < 2e-5f, "stride " << stride);
    // The scores do differ between windows, so agreement is not a coincidence.
    const int64_t C = conv.probs.size(1);
    float spread = 0;
    for (int64_t k = 0; k < C; ++k) {
      float lo = 1, hi = 0;
      for (int64_t w = 0; w < conv.windows; ++w)
        lo = std::min(lo, conv.probs[w * C + k]), hi = std::max(hi, conv.probs[w * C + k]);
      spread = std::max(spread, hi - lo);
    }
    BOOST_TEST(spread > 0.2f, "scores of a class vary by " << spread << " at most");
  }
  // The map is a grid of stride 4: a stride of 6 has no place on it.
  SlidingWindowConfig c;
  c.stride = 6;
  c.scales = {22};
  c.aspects = {1};
  const auto levels = make_pyramid(img.width, img.height, c);
  BOOST_CHECK_THROW(nn::score_windows(*model, img, levels, nn::ScanMode::Conv),
                    std::invalid_argument);
  BOOST_CHECK_NO_THROW(nn::score_windows(*model, img, levels, nn::ScanMode::Crops));
}

BOOST_AUTO_TEST_CASE(padding_would_break_the_equivalence) {
  // Why the network has no padding: with it, a crop's border sees zeros where the
  // big image has pixels. Checked on the first conv alone: valid convolution of a crop
  // equals the crop of the valid convolution; padded does not at the border.
  Rng rng(4);
  Tensor x = normal({1, 3, 12, 12}, 0, 1, rng), w = normal({2, 3, 3, 3}, 0, 1, rng);
  ag::Conv2dOptions valid, padded;
  padded.pad_h = padded.pad_w = 1;
  NoGradGuard g;
  Tensor big = ag::conv2d(Var(x), Var(w), Var(), valid).value();       // [1, 2, 10, 10]
  Tensor part = slice(slice(x, 2, 4, 12), 3, 4, 12);                   // crop at (4, 4)
  Tensor small = ag::conv2d(Var(part), Var(w), Var(), valid).value();  // [1, 2, 6, 6]
  BOOST_TEST(max_abs_diff(small, slice(slice(big, 2, 4, 10), 3, 4, 10)) < 1e-5f);
  Tensor bigp = ag::conv2d(Var(x), Var(w), Var(), padded).value();
  Tensor smallp = ag::conv2d(Var(part), Var(w), Var(), padded).value();
  BOOST_TEST(max_abs_diff(smallp, slice(slice(bigp, 2, 4, 12), 3, 4, 12)) > 1e-2f);
}

BOOST_AUTO_TEST_CASE(bench_scores_the_same_windows_in_both_modes) {
  const std::string dir = detlab_test::temp_dir("sliding_window_bench");
  save_image(dir + "/r.png", random_image(70, 50, 2));
  Run b = sw("bench --json --quiet --threads 1 --scales 22,33 --aspects 1,2 --model-free " + dir,
             dir);
  // (--model-free is not a flag: usage error)
  BOOST_TEST(b.status == 2);
  b = sw("bench --json --quiet --threads 1 --scales 22,33 --aspects 1,2 --model " + dir +
             "/none.safetensors " + dir + "/r.png",
         dir);
  BOOST_TEST(b.status == 1);
  BOOST_TEST(b.err.find("none.safetensors") != std::string::npos, b.err);
  b = sw("bench --json --quiet --threads 1 --scales 22,33 --aspects 1,2 --data " + dir +
             "/nothing " + dir + "/r.png",
         dir);
  BOOST_REQUIRE_MESSAGE(b.status == 0, b.err);
  json j = json::parse(b.out);
  SlidingWindowConfig c;
  c.scales = {22, 33};
  c.aspects = {1, 2};
  const auto row = j["images"][0];
  BOOST_TEST(row["windows"].get<int64_t>() == count_windows(make_pyramid(70, 50, c)));
  BOOST_TEST(row["max_abs_prob_diff"].get<double>() < 2e-5);
  BOOST_TEST(row["conv_seconds"].get<double>() > 0);
}

BOOST_AUTO_TEST_CASE(tiny_training_lowers_the_loss_then_eval_and_predict) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("sliding_window_train");
  const std::string model = dir + "/m.safetensors";
  // One thread: on a shared, busy machine OpenMP's spinning barriers make many small
  // steps far slower with 2 threads; results are bit-identical for any thread count.
  Run t = sw("train --scratch --quiet --json --epochs 4 --batch 32 --lr 0.005 --threads 1 "
             "--scales 20,40 --data " + data + " --model " + model,
             dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  const std::vector<double> losses = detlab_test::csv_column(dir + "/m.csv", 2);
  BOOST_REQUIRE_EQUAL(losses.size(), 4u);
  BOOST_TEST(losses.back() < 0.85 * losses.front(),
             "loss " << losses.front() << " -> " << losses.back());
  auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(nn::CropClassifierConfig::from_json(meta.at("config")).num_classes == 11);

  Run e = sw("eval --json --threads 1 --scales 20,40 --data " + data + " --model " + model, dir);
  BOOST_REQUIRE_MESSAGE(e.status == 0, e.err);
  json ej = json::parse(e.out);
  BOOST_TEST(ej["images"].get<int>() == 8);
  const double map = ej["voc_map50"].get<double>(), ap = ej["coco_ap"].get<double>();
  BOOST_TEST((map >= 0 && map <= 1));
  BOOST_TEST((ap >= 0 && ap <= 1));
  SlidingWindowConfig c;
  c.scales = {20, 40};
  BOOST_TEST(ej["windows_per_image"].get<double>() == double(count_windows(make_pyramid(64, 64, c))));

  const std::string img = data + "/test/images/000001.png";
  Run p = sw("predict --json --threads 1 --heatmap --threshold 0 --scales 20,40 --model " + model + " --out " +
                 dir + "/pred " + img,
             dir);
  BOOST_REQUIRE_MESSAGE(p.status == 0, p.err);
  json pj = json::parse(p.out);
  BOOST_TEST(pj[0]["detections"].size() >= 1u);  // threshold 0: something survives NMS
  BOOST_TEST(pj[0]["detections"].size() <= 100u);
  const Image annotated = load_image(pj[0]["annotated"].get<std::string>());
  BOOST_TEST(annotated.width == 6 * 64);  // small images are drawn enlarged
  const Image heat = load_image(pj[0]["heatmap"].get<std::string>());
  BOOST_TEST(heat.width == 5 * 64);   // one tile per class, 5 a row
  BOOST_TEST(heat.height == 2 * 64);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("sliding_window_bad");
  Run m = sw("eval --data " + data + " --model " + dir + "/missing.safetensors", dir);
  BOOST_TEST(m.status == 1);
  BOOST_TEST(m.err.find("missing.safetensors") != std::string::npos, m.err);
  BOOST_TEST(detlab_test::count_lines(m.err) == 1);

  // A model of another program: a classify checkpoint.
  Rng rng(1);
  nn::SmallCnn cnn(nn::SmallCnnConfig{}, rng);
  nn::save_checkpoint(dir + "/classify.safetensors", cnn,
                      {{"config", nn::SmallCnnConfig{}.to_json()}, {"classes", "[]"}});
  Run o = sw("predict --model " + dir + "/classify.safetensors " + data +
                 "/test/images/000001.png",
             dir);
  BOOST_TEST(o.status == 1);
  BOOST_TEST(o.err.find("classify.safetensors") != std::string::npos, o.err);
  BOOST_TEST(o.err.find("not a sliding_window model") != std::string::npos, o.err);

  // A bad image: needs a valid model first.
  nn::CropClassifier net(nn::CropClassifierConfig{}, rng);
  std::vector<std::string> names(10, "x");
  nn::save_checkpoint(dir + "/sw.safetensors", net,
                      {{"config", nn::CropClassifierConfig{}.to_json()},
                       {"classes", json(names).dump()}});
  write_file_atomic(dir + "/broken.png", std::string("not a png at all"));
  Run i = sw("predict --model " + dir + "/sw.safetensors " + dir + "/broken.png", dir);
  BOOST_TEST(i.status == 1);
  BOOST_TEST(i.err.find("broken.png") != std::string::npos, i.err);
  BOOST_TEST(detlab_test::count_lines(i.err) == 1);
  Run im = sw("predict --model " + dir + "/sw.safetensors " + dir + "/absent.png", dir);
  BOOST_TEST(im.status == 1);
  BOOST_TEST(im.err.find("absent.png") != std::string::npos, im.err);

  // Missing training data names the directory; usage errors exit 2.
  Run d = sw("train --scratch --data " + dir + "/no_scenes --model " + dir + "/x.safetensors", dir);
  BOOST_TEST(d.status == 1);
  BOOST_TEST(d.err.find("no_scenes") != std::string::npos, d.err);
  BOOST_TEST(sw("eval --stride 6 --model " + dir + "/sw.safetensors", dir).status == 2);
  BOOST_TEST(sw("train --input-size 20", dir).status == 2);
  BOOST_TEST(sw("predict --mode fast x.png", dir).status == 2);
}

BOOST_AUTO_TEST_SUITE_END()
