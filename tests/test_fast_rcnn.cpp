// Lesson 04's Fast R-CNN: the multitask loss on a hand-computed case, the RoI
// sampler's fractions, the truncated SVD of an FC layer against a reference, and a
// tiny end-to-end run of bin/fast_rcnn (loss falls, metrics in range, predict draws,
// bad inputs fail with one line naming the file).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "detection/box_coder.h"
#include "image/image.h"
#include "nn/checkpoint.h"
#include "nn/fast_rcnn.h"
#include "nn/small_cnn.h"
#include "nn/truncated_svd.h"
#include "run_program.h"
#include "tensor/ops.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

Run frcnn(const std::string& args, const std::string& dir) {
  return detlab_test::run_program("fast_rcnn", args, dir);
}

const std::string& tiny_data() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = detlab_test::make_tiny_scenes("fast_rcnn_data", 20, 6);
  return dir;
}

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
  nn::FastRcnnLoss L = nn::fast_rcnn_loss(scores, deltas, labels, targets, 2.0f);
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
  BOOST_CHECK_THROW(nn::fast_rcnn_loss(scores, deltas, {3, 0}, targets), std::exception);
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
  nn::RoiSamplingConfig cfg;
  cfg.rois_per_image = 32;
  int fg_total = 0;
  for (int trial = 0; trial < 10; ++trial) {
    nn::RoiSample s = nn::sample_rois(props, {gt}, {3}, cfg, rcnn_box_coder(), rng);
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
  nn::RoiSample s = nn::sample_rois(few, {gt}, {3}, cfg, rcnn_box_coder(), rng);
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
  nn::FastRcnnConfig cfg;
  cfg.pool = 2;
  cfg.hidden = 16;
  nn::FastRcnn net(cfg, rng);
  net.eval();
  Tensor img = random_matrix(3 * 32, 32, 9).reshape({1, 3, 32, 32});
  Tensor rois({2, 5});
  const float r[10] = {0, 2, 2, 20, 20, 0, 8, 4, 30, 31};
  std::copy(r, r + 10, rois.begin());
  const nn::FastRcnnOutput a = net.predict(Var(img), rois);
  net.compress_fc(16, 16);
  const nn::FastRcnnOutput b = net.predict(Var(img), rois);
  BOOST_TEST(max_abs_diff(a.scores.value(), b.scores.value()) < 1e-4f);
  BOOST_TEST(max_abs_diff(a.deltas.value(), b.deltas.value()) < 1e-4f);
  BOOST_TEST(a.deltas.size(1) == 4 * (cfg.num_classes - 1));
}

BOOST_AUTO_TEST_CASE(tiny_training_then_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("fast_rcnn_train");
  const std::string model = dir + "/m.safetensors", cache = dir + "/cache";
  Run t = frcnn("train --scratch --quiet --json --epochs 4 --threads 1 --lr 0.002 --val-images 6 --data " +
                    data + " --model " + model + " --cache-dir " + cache,
                dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  json tj = json::parse(t.out);
  BOOST_TEST(tj["final_loss"].get<double>() < 0.8 * tj["first_loss"].get<double>(),
             "loss " << tj["first_loss"] << " -> " << tj["final_loss"]);
  BOOST_TEST(fs::exists(dir + "/m.csv"));
  BOOST_TEST(json::parse(dl::read_file_text(dir + "/m.train.json"))["train_seconds"].get<double>() > 0);
  BOOST_TEST(!fs::is_empty(cache));  // proposals were cached
  // Same seed and data on two threads: the same model file, byte for byte.
  Run t2 = frcnn("train --scratch --quiet --epochs 4 --threads 2 --lr 0.002 --val-images 6 --data " + data +
                     " --model " + dir + "/m2.safetensors --cache-dir " + cache,
                 dir);
  BOOST_REQUIRE_MESSAGE(t2.status == 0, t2.err);
  BOOST_TEST((dl::read_file_bytes(model) == dl::read_file_bytes(dir + "/m2.safetensors")));
  auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(nn::FastRcnnConfig::from_json(meta.at("config")).num_classes == 11);

  Run e = frcnn("eval --json --threads 1 --svd 8 --data " + data + " --model " + model +
                    " --cache-dir " + cache,
                dir);
  BOOST_REQUIRE_MESSAGE(e.status == 0, e.err);
  json ej = json::parse(e.out);
  BOOST_TEST(ej["images"].get<int>() == 6);
  for (const json* j : {&ej, &ej["svd"]}) {
    const double map = (*j)["voc_map50"].get<double>(), ap = (*j)["coco_ap"].get<double>();
    BOOST_TEST((map >= 0 && map <= 1));
    BOOST_TEST((ap >= 0 && ap <= 1));
  }
  BOOST_TEST(ej["svd"]["fc7_rank"].get<int>() == 2);

  const std::string img = data + "/test/images/000001.png";
  Run p = frcnn("predict --json --threads 1 --threshold 0 --model " + model + " --cache-dir " + cache +
                    " --out " + dir + "/pred " + img,
                dir);
  BOOST_REQUIRE_MESSAGE(p.status == 0, p.err);
  json pj = json::parse(p.out);
  BOOST_TEST(pj[0]["detections"].size() >= 1u);
  BOOST_TEST(pj[0]["detections"].size() <= 100u);
  const Image annotated = load_image(pj[0]["annotated"].get<std::string>());
  BOOST_TEST(annotated.width == 6 * 64);
  BOOST_TEST(fs::exists(dir + "/pred/000001.fast_rcnn.json"));

  Run b = frcnn("bench --json --threads 1 --limit 2 --svd 16 --data " + data + " --model " + model,
                dir);
  BOOST_REQUIRE_MESSAGE(b.status == 0, b.err);
  json bj = json::parse(b.out);
  BOOST_TEST(bj["images"].get<int>() == 2);
  for (const char* k : {"proposals", "conv", "roi_pool", "fc", "nms", "without_proposals"})
    BOOST_TEST(bj["seconds_per_image"][k].get<double>() >= 0.0, k);
  BOOST_TEST(bj["svd"]["fc"].get<double>() > 0.0);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("fast_rcnn_bad");
  Run m = frcnn("eval --data " + data + " --model " + dir + "/missing.safetensors", dir);
  BOOST_TEST(m.status == 1);
  BOOST_TEST(m.err.find("missing.safetensors") != std::string::npos, m.err);
  BOOST_TEST(detlab_test::count_lines(m.err) == 1);

  Rng rng(1);
  nn::SmallCnn cnn(nn::SmallCnnConfig{}, rng);
  nn::save_checkpoint(dir + "/classify.safetensors", cnn,
                      {{"config", nn::SmallCnnConfig{}.to_json()}, {"classes", "[]"}});
  Run o = frcnn("predict --model " + dir + "/classify.safetensors " + data +
                    "/test/images/000001.png",
                dir);
  BOOST_TEST(o.status == 1);
  BOOST_TEST(o.err.find("classify.safetensors") != std::string::npos, o.err);
  BOOST_TEST(o.err.find("not a fast_rcnn model") != std::string::npos, o.err);
  BOOST_TEST(detlab_test::count_lines(o.err) == 1);

  nn::FastRcnnConfig cfg;
  nn::FastRcnn net(cfg, rng);
  std::vector<std::string> names(10, "x");
  nn::save_checkpoint(dir + "/f.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(names).dump()}});
  write_file_atomic(dir + "/broken.png", std::string("not a png at all"));
  Run i = frcnn("predict --cache-dir '' --model " + dir + "/f.safetensors " + dir + "/broken.png", dir);
  BOOST_TEST(i.status == 1);
  BOOST_TEST(i.err.find("broken.png") != std::string::npos, i.err);
  BOOST_TEST(detlab_test::count_lines(i.err) == 1);
  // A class list that does not match the network's outputs.
  nn::save_checkpoint(dir + "/short.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(std::vector<std::string>(5, "x")).dump()}});
  Run c = frcnn("predict --cache-dir '' --model " + dir + "/short.safetensors " + dir + "/broken.png", dir);
  BOOST_TEST(c.status == 1);
  BOOST_TEST(c.err.find("short.safetensors") != std::string::npos, c.err);
  BOOST_TEST(c.err.find("'classes' list has 5 names") != std::string::npos, c.err);
  BOOST_TEST(detlab_test::count_lines(c.err) == 1);
  // bench on a test split without images: nothing to time is an error, not a NaN table.
  fs::create_directories(dir + "/empty/test/images");
  write_file_atomic(dir + "/empty/test/annotations.json",
                    json({{"images", json::array()},
                          {"annotations", json::array()},
                          {"categories", json::parse(read_file_text(data + "/test/annotations.json"))
                                             ["categories"]}})
                        .dump());
  Run e = frcnn("bench --quiet --data " + dir + "/empty --model " + dir + "/f.safetensors", dir);
  BOOST_TEST(e.status == 1);
  BOOST_TEST(e.err.find("no images to time") != std::string::npos, e.err);
  BOOST_TEST(detlab_test::count_lines(e.err) == 1);

  Run d = frcnn("train --scratch --data " + dir + "/no_scenes --model " + dir + "/x.safetensors", dir);
  BOOST_TEST(d.status == 1);
  BOOST_TEST(d.err.find("no_scenes") != std::string::npos, d.err);
  BOOST_TEST(frcnn("eval --svd -3", dir).status == 2);
  BOOST_TEST(frcnn("train --proposals slow", dir).status == 2);
}

BOOST_AUTO_TEST_SUITE_END()
