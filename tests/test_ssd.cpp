// Lesson 06's SSD: default boxes, matching and hard negative mining against torchvision
// 0.14 (tests/golden/torchvision/ssd.json, made by tools/golden/
// make_torchvision_ssd_golden.py: DefaultBoxGenerator, SSDMatcher, SSD.compute_loss and
// its selection of negatives), the loss on a case computed by hand, its gradient, and a
// tiny end-to-end run of bin/ssd (1 and 2 threads give the same model bytes, metrics in
// range, predict draws the default boxes, bench times every stage, bad inputs fail with
// one line naming the file).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/gradcheck.h"
#include "data/detection_dataset.h"
#include "detection/default_boxes.h"
#include "detection/hard_negative_mining.h"
#include "detection/matcher.h"
#include "models/fast_rcnn.h"
#include "models/ssd.h"
#include "nn/checkpoint.h"
#include "program_checks.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dl;

namespace {

const detlab_test::Program ssd{"ssd"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("ssd_data", 20, 6); }

const json& golden() {
  static const json doc = json::parse(
      read_file_text(std::string(DETLAB_SOURCE_DIR) + "/tests/golden/torchvision/ssd.json"));
  return doc;
}

Tensor dec(const json& j) {
  return Tensor(j.at("shape").get<Shape>(), j.at("data").get<std::vector<float>>());
}

std::vector<GridSize> maps_of(const json& c) {
  std::vector<GridSize> m;
  for (const auto& g : c.at("maps")) m.push_back({g[0].get<int>(), g[1].get<int>()});
  return m;
}

// max |got - want| over the elements (shapes equal).
double max_diff(const Tensor& got, const Tensor& want, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(got.numel() == want.numel(),
                        what << ": " << got.numel() << " values vs torchvision " << want.numel());
  double err = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    err = std::max(err, std::fabs(double(got[i]) - double(want[i])));
  return err;
}

// The golden case's default boxes by detlab, with its s_min / s_max.
std::vector<Box> boxes_of(const json& c) {
  const auto image = c.at("image").get<std::vector<int>>();
  const std::vector<GridSize> maps = maps_of(c);
  return default_boxes(maps, ssd_scales(c.at("s_min").get<double>(), c.at("s_max").get<double>(),
                                        static_cast<int>(maps.size())),
                       c.at("aspect_ratios").get<std::vector<float>>(), image[0], image[1],
                       c.value("clip", true));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ssd_against_torchvision)

// bin/ssd's maps and scales with ratios 2 and 3: the same 8160 boxes, within 1e-6 of the
// 128-pixel side.
BOOST_AUTO_TEST_CASE(default_boxes_of_the_default_model) {
  const json& c = golden().at("default_boxes").at("default");
  const auto scales = ssd_scales(c.at("s_min").get<double>(), c.at("s_max").get<double>(), 4);
  const auto want_scales = c.at("scales").get<std::vector<double>>();
  BOOST_REQUIRE(scales.size() == want_scales.size());
  for (size_t k = 0; k < scales.size(); ++k) BOOST_TEST(std::fabs(scales[k] - want_scales[k]) < 1e-7);
  const std::vector<Box> b = boxes_of(c);
  BOOST_TEST(b.size() == 8160u);
  BOOST_TEST(max_diff(boxes_to_tensor(b), dec(c.at("boxes")), "pixels") <= 1e-6 * 128);
  // ... and what Ssd itself places on a 128 x 128 scene with these scales and ratios.
  Rng rng(1);
  models::SsdConfig cfg;
  cfg.s_min = c.at("s_min").get<float>();
  cfg.s_max = c.at("s_max").get<float>();
  cfg.aspect_ratios = c.at("aspect_ratios").get<std::vector<float>>();
  models::Ssd net(cfg, rng);
  const std::vector<Box> own = net.default_boxes(net.map_sizes(128, 128), 128, 128);
  BOOST_TEST(max_diff(boxes_to_tensor(own), dec(c.at("boxes")), "Ssd") <= 1e-6 * 128);
}

// torchvision's own scale list ends in 1.0 instead of the formula's next step: only the
// last map's s' boxes (the second of each cell) differ.
BOOST_AUTO_TEST_CASE(torchvision_scales_differ_only_in_the_last_extra_box) {
  const json& c = golden().at("default_boxes").at("default");
  const json& tv = golden().at("default_boxes").at("torchvision_scales");
  BOOST_TEST(tv.at("scales").back().get<double>() == 1.0);
  const std::vector<Box> b = boxes_of(c);
  const Tensor want = dec(tv.at("last_map_boxes"));
  const int64_t n = want.size(0), first = static_cast<int64_t>(b.size()) - n, A = 6;
  int differ = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Box& g = b[first + i];
    const float d = std::max({std::fabs(g.x1 - want[i * 4]), std::fabs(g.y1 - want[i * 4 + 1]),
                              std::fabs(g.x2 - want[i * 4 + 2]), std::fabs(g.y2 - want[i * 4 + 3])});
    if (i % A == 1) differ += d > 1.0f;  // sqrt(0.48 x 0.6) vs sqrt(0.48 x 1): 69 vs 89 px
    else BOOST_TEST(d <= 1e-6f * 128, "box " << i);
  }
  BOOST_TEST(differ == n / A);
}

// A non-square image, ratio 2 only, SSD300's scales, relative (cx, cy, w, h) and pixels,
// with and without clipping w and h to [0, 1].
BOOST_AUTO_TEST_CASE(default_boxes_non_square_with_and_without_clip) {
  for (const char* name : {"small", "small_clip"}) {
    const json& c = golden().at("default_boxes").at(name);
    const auto image = c.at("image").get<std::vector<int>>();
    const std::vector<Box> b = boxes_of(c);
    BOOST_TEST(max_diff(boxes_to_tensor(b), dec(c.at("boxes")), name) <= 1e-6 * image[1]);
    // Relative form: each map's cell centres and cell_default_box_sizes.
    const std::vector<GridSize> maps = maps_of(c);
    const auto s = ssd_scales(c.at("s_min").get<double>(), c.at("s_max").get<double>(), 3);
    std::vector<float> rel;
    for (size_t k = 0; k < maps.size(); ++k) {
      const auto wh = cell_default_box_sizes(s[k], s[k + 1], c.at("aspect_ratios").get<std::vector<float>>(),
                                             c.at("clip").get<bool>());
      for (int i = 0; i < maps[k].height; ++i)
        for (int j = 0; j < maps[k].width; ++j)
          for (const auto& p : wh)
            rel.insert(rel.end(), {(j + 0.5f) / maps[k].width, (i + 0.5f) / maps[k].height, p[0], p[1]});
    }
    BOOST_TEST(max_diff(Tensor({int64_t(rel.size() / 4), 4}, rel), dec(c.at("relative")), name) <= 1e-6);
  }
  // SSD300's last scale times sqrt(2) is over 1: clipping changes some boxes.
  BOOST_TEST(max_diff(dec(golden().at("default_boxes").at("small").at("boxes")),
                      dec(golden().at("default_boxes").at("small_clip").at("boxes")), "clip") > 1.0);
}

// SSDMatcher: threshold 0.5, then each ground truth's best default box; ground truths 1
// and 3 share theirs, and the later one keeps it.
BOOST_AUTO_TEST_CASE(matching) {
  const json& g = golden().at("matching");
  const std::vector<Box> d = boxes_from_tensor(dec(golden().at("default_boxes").at("small").at("boxes")));
  const std::vector<Box> gt = boxes_from_tensor(dec(g.at("gt_boxes")));
  const auto best = g.at("best_default_box").get<std::vector<int>>();
  BOOST_REQUIRE(best[1] == best[3]);
  const std::vector<int> m =
      match_default_boxes(box_iou_matrix(gt, d), int(gt.size()), int(d.size()), 0.5f);
  BOOST_TEST(m == g.at("matches").get<std::vector<int>>());
  BOOST_TEST(m[best[1]] == 3);
}

// SSD.compute_loss: the same targets, per-box confidence losses, the same hard negatives
// (by both implementations) and the same two losses.
BOOST_AUTO_TEST_CASE(hard_negatives_and_loss) {
  const json& g = golden().at("loss");
  const std::vector<Box> d = boxes_from_tensor(dec(g.at("default_boxes")));
  const std::vector<Box> ours = boxes_of(g);
  BOOST_TEST(max_diff(boxes_to_tensor(ours), dec(g.at("default_boxes")), "boxes") <= 1e-6 * 32);
  const int64_t D = static_cast<int64_t>(d.size());
  const Tensor cls_loss = dec(g.at("cls_loss"));
  std::vector<models::SsdTargets> targets;
  for (int n = 0; n < 2; ++n) {
    std::vector<int> labels = g.at("labels")[n].get<std::vector<int>>();
    for (int& l : labels) l -= 1;  // torchvision's labels count the background
    targets.push_back(models::ssd_targets(d, boxes_from_tensor(dec(g.at("gt_boxes")[n])), labels, 0.5f));
    const auto matched = g.at("matched")[n].get<std::vector<int>>();
    std::vector<bool> positive(D);
    for (int64_t i = 0; i < D; ++i) positive[i] = matched[i] >= 0;
    for (int64_t i = 0; i < D; ++i) BOOST_TEST((targets[n].labels[i] > 0) == positive[i]);
    const std::vector<float> loss(cls_loss.data() + n * D, cls_loss.data() + (n + 1) * D);
    std::vector<int> got = hard_negatives(loss, positive, 3.0f);
    BOOST_TEST(got == hard_negatives_reference(loss, positive, 3.0f));
    std::sort(got.begin(), got.end());
    BOOST_TEST(got == g.at("negatives")[n].get<std::vector<int>>(), "image " << n);
  }
  const Var scores(dec(g.at("cls_logits"))), deltas(dec(g.at("bbox_regression")));
  const models::SsdLoss L = models::ssd_loss(scores, deltas, targets, 3.0f, 1.0f);
  BOOST_TEST(std::fabs(L.classification.item() - g.at("loss_classification").get<double>()) <= 1e-5);
  BOOST_TEST(std::fabs(L.localization.item() - g.at("loss_bbox_regression").get<double>()) <= 1e-5);
  BOOST_TEST(L.negatives == 12);
}

BOOST_AUTO_TEST_SUITE_END()

// By hand: three default boxes, two classes (background + 1). Box 0 is the object's own
// box (offsets 0) with logits (0, 0): CE = ln 2; box 1 has logits (0, ln 3): p(bg) = 1/4,
// CE = ln 4; box 2 (0, 0): ln 2. At 1:1 the one negative kept is box 1. Box 0's deltas
// (0.5, 0, 0, 2): smooth L1 = 0.5 x 0.5^2 + (2 - 0.5) = 1.625. N = 1.
BOOST_AUTO_TEST_CASE(loss_by_hand) {
  const std::vector<Box> d = {{0, 0, 10, 10}, {20, 20, 30, 30}, {40, 0, 50, 10}};
  const models::SsdTargets t = models::ssd_targets(d, {{0, 0, 10, 10}}, {0}, 0.5f);
  BOOST_TEST(t.labels == std::vector<int>({1, 0, 0}));
  BOOST_TEST(t.positives == std::vector<int>({0}));
  for (float v : t.offsets[0]) BOOST_TEST(std::fabs(v) < 1e-6f);
  Tensor scores({1, 3, 2}), deltas({1, 3, 4});
  scores[3] = std::log(3.0f);
  deltas[0] = 0.5f;
  deltas[3] = 2.0f;
  const float ln2 = std::log(2.0f), ln4 = std::log(4.0f);
  models::SsdLoss L = models::ssd_loss(Var(scores), Var(deltas), {t}, 1.0f, 1.0f);
  BOOST_TEST(std::fabs(L.classification.item() - (ln2 + ln4)) < 1e-5f);
  BOOST_TEST(std::fabs(L.localization.item() - 1.625f) < 1e-6f);
  BOOST_TEST(std::fabs(L.total.item() - (ln2 + ln4 + 1.625f)) < 1e-5f);
  BOOST_TEST(L.negatives == 1);
  // 3:1 keeps both negatives (there are only two); alpha weighs the box term.
  L = models::ssd_loss(Var(scores), Var(deltas), {t}, 3.0f, 2.0f);
  BOOST_TEST(std::fabs(L.total.item() - (ln2 + ln4 + ln2 + 2 * 1.625f)) < 1e-5f);
  // No negatives at all: the positive's CE alone.
  L = models::ssd_loss(Var(scores), Var(deltas), {t}, 0.0f, 1.0f);
  BOOST_TEST(std::fabs(L.classification.item() - ln2) < 1e-5f);
  // An image without objects: no positives, no negatives, zero loss.
  const models::SsdTargets none = models::ssd_targets(d, {}, {}, 0.5f);
  L = models::ssd_loss(Var(scores), Var(deltas), {none}, 3.0f, 1.0f);
  BOOST_TEST(L.total.item() == 0.0f);
}

// Ties in the confidence loss go to the lower index, in both implementations; the count
// is ceil(ratio x positives), never more than the negatives there are.
BOOST_AUTO_TEST_CASE(hard_negative_ties_and_counts) {
  const std::vector<float> loss = {0.5f, 2.0f, 1.0f, 2.0f, 1.0f, 2.0f, 0.1f};
  const std::vector<bool> pos = {true, false, false, false, false, true, false};
  BOOST_TEST(hard_negatives(loss, pos, 1.0f) == std::vector<int>({1, 3}));
  BOOST_TEST(hard_negatives(loss, pos, 1.5f) == std::vector<int>({1, 3, 2}));
  BOOST_TEST(hard_negatives(loss, pos, 100.0f) == std::vector<int>({1, 3, 2, 4, 6}));
  BOOST_TEST(hard_negatives(loss, std::vector<bool>(7, false), 3.0f).empty());
  Rng rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<float> l(500);
    std::vector<bool> p(500);
    for (size_t i = 0; i < l.size(); ++i) {
      l[i] = std::floor(rng.uniform(0, 20));  // many ties
      p[i] = rng.uniform() < 0.05f;
    }
    BOOST_TEST(hard_negatives(l, p, 3.0f) == hard_negatives_reference(l, p, 3.0f));
  }
  BOOST_CHECK_THROW(hard_negatives({1.0f}, {true, false}, 3.0f), std::invalid_argument);
}

// The loss's gradient by finite differences, with the mined set held fixed (a small
// step does not change which negatives are the hardest here: distinct CE values).
BOOST_AUTO_TEST_CASE(loss_gradient) {
  const std::vector<Box> d = {{0, 0, 10, 10}, {2, 0, 12, 10}, {20, 20, 30, 30}, {40, 0, 50, 10},
                              {0, 30, 10, 40}, {30, 30, 44, 40}};
  const models::SsdTargets t = models::ssd_targets(d, {{1, 0, 11, 10}, {31, 30, 44, 41}}, {1, 0}, 0.5f);
  BOOST_REQUIRE(t.positives.size() == 3u);
  Rng rng(2);
  Tensor s({1, 6, 3}), b({1, 6, 4});
  for (float& v : s) v = rng.uniform(-2, 2);
  for (float& v : b) v = rng.uniform(-2, 2);
  Var vs(s, true), vb(b, true);
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Var>& x) { return models::ssd_loss(x[0], x[1], {t}, 1.0f, 1.5f).total; },
      {vs, vb}, 1e-3f, 1e-2f, 1e-2f);
  BOOST_TEST(r.ok, r.detail);
}

// Ssd's outputs line up with its default boxes, on square and non-square images.
BOOST_AUTO_TEST_CASE(outputs_and_default_boxes_agree) {
  Rng rng(3);
  models::SsdConfig cfg;
  cfg.channels = 8;
  models::Ssd net(cfg, rng);
  for (auto [h, w] : {std::pair{128, 128}, std::pair{64, 96}, std::pair{37, 50}}) {
    const models::SsdOutput out = net.predict(Var(Tensor({2, 3, h, w})));
    const std::vector<GridSize> maps = net.map_sizes(h, w);
    BOOST_REQUIRE(out.maps.size() == maps.size());
    for (size_t k = 0; k < maps.size(); ++k)
      BOOST_TEST((out.maps[k].height == maps[k].height && out.maps[k].width == maps[k].width));
    const int64_t D = static_cast<int64_t>(net.default_boxes(maps, h, w).size());
    BOOST_TEST(out.scores.size(1) == D);
    BOOST_TEST(out.scores.size(2) == 11);
    BOOST_TEST(out.deltas.size(1) == D);
  }
  BOOST_TEST(net.named_parameters().front().first == "backbone.0.weight");
  BOOST_CHECK_THROW(models::SsdConfig::from_json(R"({"arch": "ssd", "s_min": 0.5, "s_max": 0.2})"),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(tiny_training_then_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("ssd_train");
  const std::string model = dir + "/m.safetensors";
  const json tj = detlab_test::train_on_1_and_2_threads(
      ssd, "train --scratch --quiet --epochs 4 --batch 4 --lr 0.003 --val-images 6 --data " + data, dir);
  BOOST_TEST(tj["final_loss"].get<double>() < 0.8 * tj["first_loss"].get<double>(),
             "loss " << tj["first_loss"] << " -> " << tj["final_loss"]);
  const auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(models::SsdConfig::from_json(meta.at("config")).classes() == 10);
  BOOST_TEST(read_file_text(dir + "/m.csv").find("train_conf") != std::string::npos);

  const json ej = detlab_test::json_output(
      ssd("eval --json --threads 1 --data " + data + " --model " + model, dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  detlab_test::check_ap_in_range(ej);
  BOOST_TEST(ej["proposal_seconds_per_image"].get<double>() == 0.0);
  BOOST_TEST(ej["default_boxes_per_image"].get<int>() ==
             (16 * 16 + 8 * 8 + 4 * 4 + 2 * 2) * models::SsdConfig{}.boxes_per_cell());

  detlab_test::predict_tiny_scene(ssd, data, "--threshold 0 --show-default-boxes --model " + model, dir);
  for (const char* f : {"000001.ssd.json", "000001.default_boxes.1.png", "000001.default_boxes.4.png"})
    BOOST_TEST(fs::exists(dir + "/pred/" + f), f);

  detlab_test::bench_tiny_scenes(ssd, data, "--model " + model,
                                 {"features", "heads", "postprocess", "without_proposals"}, dir);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("ssd_bad");
  detlab_test::check_region_detector_bad_inputs(ssd, data, dir, "not an ssd model");
  Rng rng(1);
  models::FastRcnnConfig fcfg;
  models::FastRcnn fnet(fcfg, rng);
  std::vector<std::string> names(10, "x");
  nn::save_checkpoint(dir + "/fast.safetensors", fnet,
                      {{"config", fcfg.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_exit_1_naming(ssd("eval --model " + dir + "/fast.safetensors --data " + data, dir),
                                   "fast.safetensors", "not an ssd model");
  models::SsdConfig cfg;
  models::Ssd net(cfg, rng);
  nn::save_checkpoint(dir + "/s.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_broken_image(ssd, "predict --model " + dir + "/s.safetensors", dir);
  // A model file whose scales are the wrong way round is refused by name.
  models::SsdConfig bad = cfg;
  bad.s_min = 0.6f;
  bad.s_max = 0.2f;
  nn::save_checkpoint(dir + "/bad.safetensors", net,
                      {{"config", bad.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_exit_1_naming(ssd("eval --model " + dir + "/bad.safetensors --data " + data, dir),
                                   "bad.safetensors", "s_min");
  detlab_test::check_usage_errors(
      ssd, dir,
      {"train --s-min 0", "train --aspect-ratios 0.5", "train --neg-ratio -1", "train --maps 0",
       "eval --nms 2", "predict", "bench --limit 0", "train --alpha -1"});
  detlab_test::check_exit_1_naming(
      ssd("train --quiet --scratch --s-min 0.5 --s-max 0.2 --data " + data + " --out " + dir, dir),
      "--s-min");
}
