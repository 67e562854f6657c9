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
#include "models/crop_classifier.h"
#include "models/sliding_window.h"
#include "program_checks.h"
#include "tensor/ops.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

const detlab_test::Program sw{"sliding_window"};

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
std::unique_ptr<models::CropClassifier> lively_model(uint64_t seed) {
  Rng rng(seed);
  auto m = std::make_unique<models::CropClassifier>(models::CropClassifierConfig{}, rng);
  for (auto& [name, p] : m->named_parameters())
    if (name.rfind("head.3.", 0) == 0)
      for (float& w : p.value()) w *= 100.0f;
  for (auto& [name, b] : m->named_buffers())
    if (name.find("running_var") != std::string::npos)
      for (float& v : *b) v = 0.5f + rng.uniform();
  return m;
}

const std::string& tiny_data() {
  return detlab_test::tiny_scenes_once("sliding_window_data", 64, 8);
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
    const auto crops = models::score_windows(*model, img, levels, models::ScanMode::Crops, 16);
    const auto conv = models::score_windows(*model, img, levels, models::ScanMode::Conv);
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
  BOOST_CHECK_THROW(models::score_windows(*model, img, levels, models::ScanMode::Conv),
                    std::invalid_argument);
  BOOST_CHECK_NO_THROW(models::score_windows(*model, img, levels, models::ScanMode::Crops));
}

// detect = every window's class scores through the shared post-processing: detections
// pass the threshold, come best first, at most max_detections, each box a window of the
// pyramid clipped to the image, and no two of a class overlap by more than the NMS IoU.
BOOST_AUTO_TEST_CASE(detect_thresholds_and_suppresses_the_window_scores) {
  auto model = lively_model(5);
  const Image img = random_image(61, 47, 2);
  models::WindowScan scan;
  scan.windows.scales = {22, 30};
  scan.windows.aspects = {1, 2};
  scan.post.score_threshold = 0.3f;
  scan.post.max_detections = 12;
  const models::WindowDetections d = models::detect(*model, img, scan);
  BOOST_TEST(d.scores.windows == count_windows(d.levels));
  const std::vector<Box> windows = all_window_boxes(d.levels);
  BOOST_REQUIRE(!d.dets.empty());
  BOOST_TEST(d.dets.size() <= 12u);
  for (size_t i = 0; i < d.dets.size(); ++i) {
    const Detection& x = d.dets[i];
    BOOST_TEST(x.score >= 0.3f);
    if (i > 0) BOOST_TEST(x.score <= d.dets[i - 1].score);
    BOOST_TEST((x.cls >= 0 && x.cls < model->config.classes()));
    bool found = false;  // a window with this box and this class probability
    for (size_t w = 0; w < windows.size() && !found; ++w)
      found = box_iou(clip_box(windows[w], float(img.width), float(img.height)), x.box) == 1.0f &&
              d.scores.probs[int64_t(w) * model->config.num_classes + x.cls + 1] == x.score;
    BOOST_TEST(found, "detection " << i << " is not a scored window");
    for (size_t j = 0; j < i; ++j)
      if (d.dets[j].cls == x.cls) BOOST_TEST(box_iou(d.dets[j].box, x.box) <= 0.3f);
  }
}

// The training crops follow R-CNN's rule: a positive overlaps an object by IoU >= 0.5
// and takes its class, a negative overlaps every object by less than 0.3; every crop
// lies inside its image and has one of the scan's aspect ratios.
BOOST_AUTO_TEST_CASE(training_crops_follow_the_iou_rules) {
  const DetectionDataset ds = load_detection_dataset(tiny_data() + "/train", 4);
  SlidingWindowConfig windows;
  const models::SamplingOptions o;
  const std::vector<models::CropSample> all = models::sample_dataset(ds, windows, o, Rng(8));
  int positives = 0, negatives = 0;
  for (const models::CropSample& c : all) {
    const DetectionItem& item = ds.items[c.item];
    const Box& w = c.window;
    BOOST_TEST((w.x1 >= 0 && w.y1 >= 0 && w.x2 <= item.image.width + 1e-3f &&
                w.y2 <= item.image.height + 1e-3f));
    int which = -1;
    const float iou = models::best_iou(item, w, which);
    if (c.label > 0) {
      ++positives;
      BOOST_TEST(iou >= o.positive_iou);
      BOOST_TEST(c.label == item.labels[which] + 1);
      continue;
    }
    ++negatives;
    BOOST_TEST(iou < o.negative_iou);
    bool shape = false;
    for (float a : windows.aspects) shape = shape || std::fabs(w.height() / w.width() - a) < 1e-3f;
    BOOST_TEST(shape, "negative window " << w.width() << " x " << w.height());
  }
  BOOST_TEST(positives > 0);
  BOOST_TEST(negatives > 0);
  // The same Rng gives the same crops (each image from its own fork).
  const std::vector<models::CropSample> again = models::sample_dataset(ds, windows, o, Rng(8));
  BOOST_REQUIRE_EQUAL(again.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i)
    BOOST_TEST((again[i].label == all[i].label && again[i].window.x1 == all[i].window.x1));
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
  detlab_test::check_exit_1_naming(sw("bench --json --quiet --threads 1 --scales 22,33 "
                                      "--aspects 1,2 --model " + dir + "/none.safetensors " +
                                          dir + "/r.png",
                                      dir),
                                   "none.safetensors");
  json j = detlab_test::json_output(sw("bench --json --quiet --threads 1 --scales 22,33 "
                                       "--aspects 1,2 --data " + dir + "/nothing " + dir +
                                           "/r.png",
                                       dir));
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
  BOOST_TEST(models::CropClassifierConfig::from_json(meta.at("config")).num_classes == 11);

  json ej = detlab_test::json_output(
      sw("eval --json --threads 1 --scales 20,40 --data " + data + " --model " + model, dir));
  BOOST_TEST(ej["images"].get<int>() == 8);
  detlab_test::check_ap_in_range(ej);
  SlidingWindowConfig c;
  c.scales = {20, 40};
  BOOST_TEST(ej["windows_per_image"].get<double>() == double(count_windows(make_pyramid(64, 64, c))));

  // Threshold 0: something survives NMS.
  const json pj = detlab_test::predict_tiny_scene(
      sw, data, "--heatmap --threshold 0 --scales 20,40 --model " + model, dir);
  const Image heat = load_image(pj["heatmap"].get<std::string>());
  BOOST_TEST(heat.width == 5 * 64);   // one tile per class, 5 a row
  BOOST_TEST(heat.height == 2 * 64);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("sliding_window_bad");
  detlab_test::check_region_detector_bad_inputs(sw, data, dir, "not a sliding_window model");

  // A bad image: needs a valid model first.
  Rng rng(1);
  models::CropClassifier net(models::CropClassifierConfig{}, rng);
  std::vector<std::string> names(10, "x");
  nn::save_checkpoint(dir + "/sw.safetensors", net,
                      {{"config", models::CropClassifierConfig{}.to_json()},
                       {"classes", json(names).dump()}});
  detlab_test::check_broken_image(sw, "predict --model " + dir + "/sw.safetensors", dir);
  detlab_test::check_exit_1_naming(
      sw("predict --model " + dir + "/sw.safetensors " + dir + "/absent.png", dir), "absent.png");
  // bench on a test split without images: nothing to time is an error.
  const std::string empty = detlab_test::make_empty_test_split(dir, data);
  detlab_test::check_exit_1_naming(
      sw("bench --quiet --data " + empty + " --model " + dir + "/sw.safetensors", dir),
      empty + "/test", "no images to time");

  detlab_test::check_usage_errors(sw, dir,
                                  {"eval --stride 6 --model " + dir + "/sw.safetensors",
                                   "train --input-size 20", "predict --mode fast x.png"});
}

BOOST_AUTO_TEST_SUITE_END()
