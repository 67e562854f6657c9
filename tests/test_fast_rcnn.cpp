// Lesson 04's Fast R-CNN: the multitask loss on a hand-computed case, the RoI
// sampler's fractions, the training batch's mirroring, detect's output contract, the truncated SVD of an FC layer against a reference, and a
// tiny end-to-end run of bin/fast_rcnn (loss falls, metrics in range, predict draws,
// bad inputs fail with one line naming the file).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "detection/box_coder.h"
#include "image/transforms.h"
#include "nn/checkpoint.h"
#include "models/fast_rcnn.h"
#include "nn/truncated_svd.h"
#include "program_checks.h"
#include "tensor/ops.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

const detlab_test::Program frcnn{"fast_rcnn"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("fast_rcnn_data", 20, 6); }

Tensor random_matrix(int64_t u, int64_t v, uint64_t seed) {
  Rng rng(seed);
  Tensor w({u, v});
  for (float& x : w) x = rng.normal();
  return w;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fast_rcnn)

// Two RoIs, K = 2 classes (3 scores). RoI 0 is class 2 (label 2), RoI 1 background.
// CE: both logit rows are zeros -> log 3 each, mean log 3.
// Box term, RoI 0 only, class 2's columns 4..7: differences (0.5, -2.5, 0, 0.1) ->
// smooth L1 0.125 + 2.0 + 0 + 0.005 = 2.13; divided by R = 2 -> 1.065.
// Class 1's columns of RoI 0 and everything of RoI 1 must not count.
BOOST_AUTO_TEST_CASE(multitask_loss_by_hand) {
  Var scores(Tensor({2, 3}), true);
  Tensor d({2, 8});
  const float row0[8] = {5, 5, 5, 5, 0.5f, -2, 0, 0.1f};
  for (int i = 0; i < 8; ++i) d[i] = row0[i], d[8 + i] = 9;
  Var deltas(d, true);
  const std::vector<int> labels = {2, 0};
  const std::vector<BoxDelta> targets = {{0, 0.5f, 0, 0}, {7, 7, 7, 7}};
  models::FastRcnnLoss L = models::fast_rcnn_loss(scores, deltas, labels, targets, 2.0f);
  BOOST_TEST(L.classification.item() == std::log(3.0), boost::test_tools::tolerance(1e-5));
  BOOST_TEST(L.localization.item() == 1.065, boost::test_tools::tolerance(1e-5));
  BOOST_TEST(L.total.item() == std::log(3.0) + 2 * 1.065, boost::test_tools::tolerance(1e-5));
  L.total.backward();
  const Tensor& g = deltas.grad();
  // d/dx of lambda * smoothL1 / R: 2 * 0.5 / 2 = 0.5; 2 * (-1) / 2 = -1; 0; 2 * 0.1 / 2.
  const float expect[8] = {0, 0, 0, 0, 0.5f, -1, 0, 0.1f};
  for (int i = 0; i < 8; ++i) {
    BOOST_TEST(g[i] == expect[i], boost::test_tools::tolerance(1e-5f));
    BOOST_TEST(g[8 + i] == 0.0f);
  }
  // CE gradient: (softmax - onehot) / R.
  BOOST_TEST(scores.grad()[2] == (1.0f / 3 - 1) / 2, boost::test_tools::tolerance(1e-5f));
  BOOST_TEST(scores.grad()[3] == (1.0f / 3 - 1) / 2, boost::test_tools::tolerance(1e-5f));
  // A label outside [0, K] is a shape error, not a silent wrong loss.
  BOOST_CHECK_THROW(models::fast_rcnn_loss(scores, deltas, {3, 0}, targets), std::exception);
}

// One object; plenty of foreground and background candidates: a 32-RoI sample has 8
// foreground (25%), all with IoU >= 0.5 and the object's label, 24 background with
// IoU in [0.1, 0.5); boxes with IoU < 0.1 never appear. Few foreground: all of them
// (including the ground-truth box itself), the rest background.
BOOST_AUTO_TEST_CASE(roi_sampler_fractions) {
  const Box gt{20, 20, 60, 60};
  std::vector<Box> props;
  for (int i = 0; i < 40; ++i) props.push_back({20.0f + i % 5, 20.0f + i / 5, 60.0f + i % 5, 60.0f});
  for (int i = 0; i < 100; ++i) props.push_back({40.0f + i % 10, 40.0f + i / 10, 80.0f + i % 10, 80.0f});
  for (int i = 0; i < 50; ++i) props.push_back({90.0f, 90.0f + i % 5, 120.0f, 125.0f});
  Rng rng(3);
  models::RoiSamplingConfig cfg;
  cfg.rois_per_image = 32;
  int fg_total = 0;
  for (int trial = 0; trial < 10; ++trial) {
    models::RoiSample s = models::sample_rois(props, {gt}, {3}, cfg, rcnn_box_coder(), rng);
    BOOST_REQUIRE_EQUAL(s.rois.size(), 32u);
    int fg = 0;
    for (size_t i = 0; i < s.rois.size(); ++i) {
      const float iou = box_iou(s.rois[i], gt);
      if (s.labels[i] > 0) {
        ++fg;
        BOOST_TEST(s.labels[i] == 4);
        BOOST_TEST(iou >= 0.5f);
        // The target decodes back to the object.
        const Box back = decode_box(s.targets[i], s.rois[i], rcnn_box_coder());
        BOOST_TEST(box_iou(back, gt) > 0.999f);
      } else {
        BOOST_TEST((iou >= 0.1f && iou < 0.5f), "background IoU " << iou);
      }
    }
    BOOST_TEST(fg == 8);
    fg_total += fg;
  }
  BOOST_TEST(fg_total == 80);
  // Only two proposals overlap: those two plus the ground truth are the foreground.
  std::vector<Box> few(props.begin() + 38, props.end());
  models::RoiSample s = models::sample_rois(few, {gt}, {3}, cfg, rcnn_box_coder(), rng);
  int fg = 0;
  bool has_gt = false;
  for (size_t i = 0; i < s.rois.size(); ++i) {
    fg += s.labels[i] > 0;
    has_gt |= box_iou(s.rois[i], gt) == 1.0f;
  }
  size_t eligible_bg = 0;
  for (const Box& b : few) {
    const float iou = box_iou(b, gt);
    eligible_bg += iou >= 0.1f && iou < 0.5f;
  }
  BOOST_TEST(fg == 3);
  BOOST_TEST(has_gt);
  BOOST_TEST(s.rois.size() == 3 + std::min<size_t>(29, eligible_bg));
}

// One image (32 x 24, a horizontal ramp so that mirroring shows), one object. Without
// flipping the batch holds the image as backbone_input reads it and the object's own box
// among the RoIs; with flipping each draw is either that or the mirror image with
// hflip_box'd RoIs -- both occur over a few seeds.
BOOST_AUTO_TEST_CASE(training_batch_mirrors_image_and_boxes_together) {
  DetectionDataset ds;
  DetectionItem item;
  item.image = Image(32, 24, 3);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < 3; ++c) item.image.at(x, y, c) = static_cast<uint8_t>(8 * x);
  const Box gt{2, 4, 14, 20};
  item.boxes = {gt};
  item.labels = {1};
  ds.items.push_back(item);
  const std::vector<std::vector<Box>> props = {{{3, 4, 14, 19}, {16, 2, 30, 22}, {1, 3, 12, 20}}};
  models::FastRcnnBatchOptions o;
  o.rois_per_batch = 8;
  o.fg_fraction = 1.0f;  // every foreground RoI, the object's own box among them
  o.flip = false;
  auto has_box = [](const models::FastRcnnBatch& b, const Box& want, int label) {
    for (int64_t i = 0; i < b.rois.size(0); ++i)
      if (b.rois[i * 5 + 1] == want.x1 && b.rois[i * 5 + 2] == want.y1 &&
          b.rois[i * 5 + 3] == want.x2 && b.rois[i * 5 + 4] == want.y2 && b.labels[i] == label)
        return true;
    return false;
  };
  const Tensor plain = models::backbone_input(item.image);
  const models::FastRcnnBatch b0 = models::make_fast_rcnn_batch(ds, props, {0}, o, Rng(1));
  BOOST_TEST(b0.images.shape() == std::vector<int64_t>({1, 3, 24, 32}));
  BOOST_TEST(max_abs_diff(b0.images.reshape({3, 24, 32}), plain) == 0.0f);
  BOOST_TEST(has_box(b0, gt, 2));
  BOOST_TEST(b0.labels.size() == b0.targets.size());
  BOOST_TEST(b0.rois.size(0) == static_cast<int64_t>(b0.labels.size()));
  o.flip = true;
  const Tensor mirrored = hflip(plain);
  int flipped = 0, kept = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const models::FastRcnnBatch b = models::make_fast_rcnn_batch(ds, props, {0}, o, Rng(seed));
    const Tensor x = b.images.reshape({3, 24, 32});
    if (max_abs_diff(x, mirrored) == 0.0f) {
      ++flipped;
      BOOST_TEST(has_box(b, hflip_box(gt, 32), 2));
      BOOST_TEST(!has_box(b, gt, 2));
    } else {
      ++kept;
      BOOST_TEST(max_abs_diff(x, plain) == 0.0f);
      BOOST_TEST(has_box(b, gt, 2));
    }
  }
  BOOST_TEST(flipped > 0);
  BOOST_TEST(kept > 0);
}

// detect on an untrained model: no proposals, no detections; otherwise object classes,
// probabilities, boxes inside the image with an area, at most max_detections, nothing
// below the threshold, and the stage times filled in.
BOOST_AUTO_TEST_CASE(detect_keeps_the_postprocessing_contract) {
  Rng rng(5);
  models::FastRcnnConfig cfg;
  cfg.num_classes = 3;
  models::FastRcnn net(cfg, rng);
  net.eval();
  Image img(40, 32, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(rng.below(256));
  models::FastRcnnStageTimes t;
  BOOST_TEST(net.detect(img, {}, {}, &t).empty());
  std::vector<Box> props;
  for (int i = 0; i < 30; ++i) props.push_back({float(i % 6), float(i % 5), 20.0f + i % 7, 16.0f + i % 9});
  models::FastRcnnDetectOptions o;
  o.threshold = 0.0f;
  o.nms = 1.0;  // nothing suppressed
  o.max_detections = 7;
  const std::vector<Detection> dets = net.detect(img, props, o, &t);
  BOOST_TEST(dets.size() == 7u);
  for (const Detection& d : dets) {
    BOOST_TEST((d.cls >= 0 && d.cls < 2));
    BOOST_TEST((d.score >= 0.0f && d.score <= 1.0f));
    BOOST_TEST((d.box.x1 >= 0 && d.box.y1 >= 0 && d.box.x2 <= 40 && d.box.y2 <= 32));
    BOOST_TEST(d.box.width() > 0);
  }
  BOOST_TEST(t.total() > 0);
  o.threshold = 0.99f;  // an untrained model is never that sure
  BOOST_TEST(net.detect(img, props, o).empty());
}

BOOST_AUTO_TEST_CASE(truncated_svd_reconstructs) {
  for (auto [u, v] : {std::pair<int64_t, int64_t>{5, 8}, {8, 5}, {6, 6}}) {
    const Tensor W = random_matrix(u, v, 7 + u);
    const nn::SvdResult a = nn::svd_jacobi(W), b = nn::svd_reference(W);
    const int64_t r = std::min(u, v);
    BOOST_REQUIRE_EQUAL(a.S.numel(), r);
    for (int64_t k = 0; k < r; ++k) {
      BOOST_TEST(a.S[k] == b.S[k], boost::test_tools::tolerance(1e-4f));
      if (k > 0) BOOST_TEST(a.S[k] <= a.S[k - 1]);
    }
    // Full rank: W itself.
    BOOST_TEST(max_abs_diff(nn::svd_reconstruct(a, static_cast<int>(r)), W) < 1e-4f);
    BOOST_TEST(max_abs_diff(nn::svd_reconstruct(b, static_cast<int>(r)), W) < 1e-4f);
    // U's columns orthonormal.
    for (int64_t p = 0; p < r; ++p)
      for (int64_t q = 0; q < r; ++q) {
        double dot = 0;
        for (int64_t i = 0; i < u; ++i) dot += a.U[i * r + p] * a.U[i * r + q];
        BOOST_TEST(dot == (p == q ? 1.0 : 0.0), boost::test_tools::tolerance(1e-4));
      }
    // Eckart-Young: the rank-t error is the norm of the dropped singular values.
    const int t = 2;
    const Tensor Wt = nn::svd_reconstruct(a, t);
    double err = 0, dropped = 0;
    for (int64_t i = 0; i < W.numel(); ++i) err += double(W[i] - Wt[i]) * (W[i] - Wt[i]);
    for (int64_t k = t; k < r; ++k) dropped += double(a.S[k]) * a.S[k];
    BOOST_TEST(err == dropped, boost::test_tools::tolerance(1e-3));
  }
  // A hand-made case: diag(3, 2) padded -> singular values 3, 2 exactly.
  Tensor D({2, 3});
  D[0] = 3;
  D[4] = -2;
  const nn::SvdResult d = nn::svd_jacobi(D);
  BOOST_TEST(d.S[0] == 3.0f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(d.S[1] == 2.0f, boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(truncated_svd_linear_layer) {
  Rng rng(11);
  nn::Linear layer(12, 6, rng);
  for (float& b : layer.bias.value()) b = rng.normal();
  const Tensor x = random_matrix(4, 12, 5);
  const Tensor y = layer(Var(x)).value();
  auto full = nn::truncated_svd_linear(layer, 6);  // full rank: the same function
  BOOST_TEST(max_abs_diff((*full)(Var(x)).value(), y) < 1e-4f);
  BOOST_TEST(full->num_parameters() == 6 * 12 + 6 * 6 + 6);
  auto low = nn::truncated_svd_linear(layer, 2);
  BOOST_TEST(low->num_parameters() == 2 * 12 + 6 * 2 + 6);
  BOOST_TEST(max_abs_diff((*low)(Var(x)).value(), y) > 1e-3f);  // rank 2 is an approximation
  BOOST_CHECK_THROW(nn::truncated_svd_linear(layer, 7), std::invalid_argument);
  BOOST_CHECK_THROW(nn::truncated_svd_linear(layer, 0), std::invalid_argument);
  // The model's compress_fc at full rank leaves the outputs unchanged.
  models::FastRcnnConfig cfg;
  cfg.pool = 2;
  cfg.hidden = 16;
  models::FastRcnn net(cfg, rng);
  net.eval();
  Tensor img = random_matrix(3 * 32, 32, 9).reshape({1, 3, 32, 32});
  Tensor rois({2, 5});
  const float r[10] = {0, 2, 2, 20, 20, 0, 8, 4, 30, 31};
  std::copy(r, r + 10, rois.begin());
  const models::FastRcnnOutput a = net.predict(Var(img), rois);
  net.compress_fc(16, 16);
  const models::FastRcnnOutput b = net.predict(Var(img), rois);
  BOOST_TEST(max_abs_diff(a.scores.value(), b.scores.value()) < 1e-4f);
  BOOST_TEST(max_abs_diff(a.deltas.value(), b.deltas.value()) < 1e-4f);
  BOOST_TEST(a.deltas.size(1) == 4 * (cfg.num_classes - 1));
}

BOOST_AUTO_TEST_CASE(tiny_training_then_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("fast_rcnn_train");
  const std::string model = dir + "/m.safetensors", cache = dir + "/cache";
  const json tj = detlab_test::train_on_1_and_2_threads(
      frcnn,
      "train --scratch --quiet --epochs 4 --lr 0.002 --val-images 6 --data " + data +
          " --cache-dir " + cache,
      dir);
  BOOST_TEST(tj["final_loss"].get<double>() < 0.8 * tj["first_loss"].get<double>(),
             "loss " << tj["first_loss"] << " -> " << tj["final_loss"]);
  BOOST_TEST(!fs::is_empty(cache));  // proposals were cached
  auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(models::FastRcnnConfig::from_json(meta.at("config")).num_classes == 11);

  json ej = detlab_test::json_output(frcnn("eval --json --threads 1 --svd 8 --data " + data +
                                               " --model " + model + " --cache-dir " + cache,
                                           dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  detlab_test::check_ap_in_range(ej);
  detlab_test::check_ap_in_range(ej["svd"]);
  BOOST_TEST(ej["svd"]["fc7_rank"].get<int>() == 2);

  detlab_test::predict_tiny_scene(
      frcnn, data, "--threshold 0 --model " + model + " --cache-dir " + cache, dir);
  BOOST_TEST(fs::exists(dir + "/pred/000001.fast_rcnn.json"));

  const json bj = detlab_test::bench_tiny_scenes(
      frcnn, data, "--svd 16 --model " + model,
      {"proposals", "conv", "roi_pool", "fc", "nms", "without_proposals"}, dir);
  BOOST_TEST(bj["images"].get<int>() == 2);
  BOOST_TEST(bj["svd"]["fc"].get<double>() > 0.0);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("fast_rcnn_bad");
  detlab_test::check_region_detector_bad_inputs(frcnn, data, dir, "not a fast_rcnn model");

  Rng rng(1);
  models::FastRcnnConfig cfg;
  models::FastRcnn net(cfg, rng);
  std::vector<std::string> names(10, "x");
  nn::save_checkpoint(dir + "/f.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_broken_image(frcnn, "predict --cache-dir '' --model " + dir + "/f.safetensors",
                                  dir);
  // A class list that does not match the network's outputs.
  nn::save_checkpoint(dir + "/short.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(std::vector<std::string>(5, "x")).dump()}});
  detlab_test::check_exit_1_naming(
      frcnn("predict --cache-dir '' --model " + dir + "/short.safetensors " + dir + "/broken.png",
            dir),
      "short.safetensors", "'classes' list has 5 names");
  // bench on a test split without images: nothing to time is an error, not a NaN table.
  const std::string empty = detlab_test::make_empty_test_split(dir, data);
  detlab_test::check_exit_1_naming(
      frcnn("bench --quiet --data " + empty + " --model " + dir + "/f.safetensors", dir),
      empty + "/test", "no images to time");

  detlab_test::check_usage_errors(frcnn, dir, {"eval --svd -3", "train --proposals slow"});
}

BOOST_AUTO_TEST_SUITE_END()
