// Lesson 05's Faster R-CNN: the Region Proposal Network against torchvision 0.14
// (tests/golden/torchvision/rpn.json, made by tools/golden/make_torchvision_rpn_golden.py:
// head outputs, anchors, anchor labels with the best-anchor rule, the two RPN losses on
// torchvision's own sample, the proposal layer in testing and training mode, and
// fastrcnn_loss), hand-made cases of the targets and the proposal layer, the four
// losses of a training batch, and a tiny end-to-end run of bin/faster_rcnn (1 and 2
// threads give the same model bytes, metrics in range, predict draws its pictures, bench
// times every stage, bad inputs fail with one line naming the file).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/detection_dataset.h"
#include "detection/nms.h"
#include "models/faster_rcnn.h"
#include "nn/checkpoint.h"
#include "program_checks.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dl;

namespace {

const detlab_test::Program faster{"faster_rcnn"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("faster_rcnn_data", 20, 6); }

const json& golden() {
  static const json doc = json::parse(
      read_file_text(std::string(DETLAB_SOURCE_DIR) + "/tests/golden/torchvision/rpn.json"));
  return doc;
}

Tensor dec(const json& j) {
  return Tensor(j.at("shape").get<Shape>(), j.at("data").get<std::vector<float>>());
}

// |got - want| <= 1e-5 * max(1, max |want|), element by element, shapes equal.
void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(got.numel() == want.numel(),
                        what << ": " << got.numel() << " values vs torchvision " << want.numel());
  double scale = 1.0, err = 0.0;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(double(want[i])));
  for (int64_t i = 0; i < want.numel(); ++i)
    err = std::max(err, std::fabs(double(got[i]) - double(want[i])));
  BOOST_TEST(err <= 1e-5 * scale, what << ": max abs diff " << err);
}

// The golden case's RPN with torchvision's head weights.
models::Rpn golden_rpn() {
  const json& g = golden().at("rpn");
  models::RpnConfig cfg;
  cfg.channels = g.at("channels");
  cfg.anchor_sizes = g.at("anchor_sizes").get<std::vector<float>>();
  cfg.aspect_ratios = g.at("aspect_ratios").get<std::vector<float>>();
  Rng rng(1);
  models::Rpn rpn(cfg.channels, cfg, rng);
  const json& w = g.at("weights");
  auto set = [&](Var& v, const char* name) {
    const Tensor t = dec(w.at(name));
    BOOST_REQUIRE(t.numel() == v.value().numel());
    std::copy(t.begin(), t.end(), v.value().begin());
  };
  set(rpn.conv->weight, "conv.0.0.weight");
  set(rpn.conv->bias, "conv.0.0.bias");
  set(rpn.cls_logits->weight, "cls_logits.weight");
  set(rpn.cls_logits->bias, "cls_logits.bias");
  set(rpn.bbox_pred->weight, "bbox_pred.weight");
  set(rpn.bbox_pred->bias, "bbox_pred.bias");
  return rpn;
}

std::vector<Box> gt_of(int n) { return boxes_from_tensor(dec(golden().at("rpn").at("gt_boxes")[n])); }

}  // namespace

BOOST_AUTO_TEST_SUITE(rpn_against_torchvision)

BOOST_AUTO_TEST_CASE(head_and_anchors) {
  const json& g = golden().at("rpn");
  models::Rpn rpn = golden_rpn();
  NoGradGuard no_grad;
  const models::RpnOutput out = rpn.head(Var(dec(g.at("features"))));
  expect_close(out.objectness.value(), dec(g.at("objectness")), "objectness");
  expect_close(out.deltas.value(), dec(g.at("deltas")), "deltas");
  const auto batch = g.at("batch").get<std::vector<int>>();
  const std::vector<Box> anchors = rpn.anchors({int(out.objectness.size(2)), int(out.objectness.size(3))},
                                               batch[0], batch[1]);
  expect_close(boxes_to_tensor(anchors), dec(g.at("anchors")), "anchors");
}

BOOST_AUTO_TEST_CASE(anchor_labels_and_matched_ground_truth) {
  const json& g = golden().at("rpn");
  const std::vector<Box> anchors = boxes_from_tensor(dec(g.at("anchors")));
  models::RpnTrainingOptions o;
  o.anchors_per_image = g.at("batch_size_per_image");
  for (int n = 0; n < 2; ++n) {
    Rng rng(3);
    const models::RpnTargets t = models::rpn_targets(anchors, gt_of(n), o, rng);
    const auto want = g.at("labels")[n].get<std::vector<int>>();
    BOOST_TEST(t.labels == want, "image " << n << ": anchor labels differ");
    const auto matched = g.at("matched_gt")[n].get<std::vector<int>>();
    for (size_t i = 0; i < anchors.size(); ++i)
      if (want[i] == 1) BOOST_TEST(t.matched_gt[i] == matched[i], "anchor " << i);
    // The sample: at most half positive, within the image's labels.
    BOOST_TEST(t.positives.size() <= size_t(o.anchors_per_image / 2));
    BOOST_TEST(t.positives.size() + t.negatives.size() <= size_t(o.anchors_per_image));
    for (int i : t.positives) BOOST_TEST(want[i] == 1);
    for (int i : t.negatives) BOOST_TEST(want[i] == 0);
  }
}

BOOST_AUTO_TEST_CASE(losses_on_torchvisions_sample) {
  const json& g = golden().at("rpn");
  models::Rpn rpn = golden_rpn();
  const models::RpnOutput out = rpn.head(Var(dec(g.at("features"))));
  const std::vector<Box> anchors = boxes_from_tensor(dec(g.at("anchors")));
  std::vector<models::RpnTargets> targets(2);
  for (int n = 0; n < 2; ++n) {
    models::RpnTargets& t = targets[n];
    t.positives = g.at("sampled_positives")[n].get<std::vector<int>>();
    t.negatives = g.at("sampled_negatives")[n].get<std::vector<int>>();
    const auto matched = g.at("matched_gt")[n].get<std::vector<int>>();
    const Tensor reg = dec(g.at("regression_targets")[n]);
    const std::vector<Box> gt = gt_of(n);
    for (int i : t.positives) {
      const BoxDelta d = encode_box(gt[matched[i]], anchors[i], BoxCoder{});
      for (int j = 0; j < 4; ++j) BOOST_TEST(std::fabs(d[j] - reg[i * 4 + j]) <= 1e-5f);
      t.positive_targets.push_back(d);
    }
  }
  const models::RpnLoss L = models::rpn_loss(out, targets);
  BOOST_TEST(std::fabs(L.objectness.item() - g.at("loss_objectness").get<double>()) <= 1e-5);
  BOOST_TEST(std::fabs(L.box.item() - g.at("loss_box").get<double>()) <= 1e-5);
  // ... and it reaches the head's weights.
  ag::add(L.objectness, L.box).backward();
  double grad = 0;
  for (float v : rpn.conv->weight.grad()) grad += std::fabs(v);
  BOOST_TEST(grad > 0.0);
}

BOOST_AUTO_TEST_CASE(proposal_layer_testing_and_training) {
  const json& g = golden().at("rpn");
  models::Rpn rpn = golden_rpn();
  NoGradGuard no_grad;
  const models::RpnOutput out = rpn.head(Var(dec(g.at("features"))));
  const std::vector<Box> anchors = boxes_from_tensor(dec(g.at("anchors")));
  for (const char* mode : {"test", "train"}) {
    models::ProposalLayerOptions o;
    o.pre_nms_top_n = g.at(mode).at("pre_nms_top_n");
    o.post_nms_top_n = g.at(mode).at("post_nms_top_n");
    o.nms_iou = g.at("nms");
    for (int n = 0; n < 2; ++n) {
      const auto size = g.at("image_sizes")[n].get<std::vector<int>>();  // (h, w)
      const models::Proposals p = models::propose(out.objectness.value(), out.deltas.value(), n,
                                                  anchors, size[1], size[0], o);
      const std::string what = std::string(mode) + " image " + std::to_string(n);
      expect_close(boxes_to_tensor(p.boxes), dec(g.at(std::string(mode) + "_proposals")[n]),
                   what + " boxes");
      expect_close(Tensor({int64_t(p.scores.size())}, p.scores),
                   dec(g.at(std::string(mode) + "_scores")[n]), what + " scores");
    }
  }
}

BOOST_AUTO_TEST_CASE(fastrcnn_loss_with_beta_one_ninth) {
  const json& g = golden().at("fastrcnn_loss");
  const Tensor logits = dec(g.at("logits")), all = dec(g.at("deltas")), tg = dec(g.at("targets"));
  const int64_t R = logits.size(0), C = logits.size(1);
  Tensor deltas({R, 4 * (C - 1)});  // torchvision's background columns dropped
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < 4 * (C - 1); ++j) deltas[i * 4 * (C - 1) + j] = all[i * 4 * C + 4 + j];
  std::vector<BoxDelta> targets(R);
  for (int64_t i = 0; i < R; ++i)
    for (int j = 0; j < 4; ++j) targets[i][j] = tg[i * 4 + j];
  const models::FastRcnnLoss L = models::fast_rcnn_loss(
      Var(logits), Var(deltas), g.at("labels").get<std::vector<int>>(), targets, 1.0f, 1.0f / 9.0f);
  BOOST_TEST(std::fabs(L.classification.item() - g.at("loss_classifier").get<double>()) <= 1e-5);
  BOOST_TEST(std::fabs(L.localization.item() - g.at("loss_box_reg").get<double>()) <= 1e-5);
}

BOOST_AUTO_TEST_SUITE_END()

// By hand: one object between two anchors, neither reaching 0.7 -- the best one is
// still positive (the paper's rule (i)); an anchor far away is background; one at
// IoU 0.5 is ignored.
BOOST_AUTO_TEST_CASE(rpn_targets_best_anchor_rule_by_hand) {
  const std::vector<Box> anchors = {{0, 0, 10, 10}, {4, 0, 14, 10}, {50, 50, 60, 60}, {0, 0, 10, 20}};
  const std::vector<Box> gt = {{2, 0, 12, 10}};  // IoU 8/12, 8/12... see below
  // IoU with anchor 0: 8x10 / (100 + 100 - 80) = 0.667; anchor 1: 0.667 (tie: both best);
  // anchor 2: 0; anchor 3: 80 / (200 + 100 - 80) = 0.364 (between 0.3 and 0.7: ignored).
  models::RpnTrainingOptions o;
  Rng rng(1);
  const models::RpnTargets t = models::rpn_targets(anchors, gt, o, rng);
  BOOST_TEST(t.labels == std::vector<int>({1, 1, 0, -1}));
  BOOST_TEST(t.positives == std::vector<int>({0, 1}));
  BOOST_TEST(t.negatives == std::vector<int>({2}));
  // Anchor 0's target: the box is 2 px right of it, same size: tx = 0.2, the rest 0.
  BOOST_TEST(std::fabs(t.positive_targets[0][0] - 0.2f) < 1e-6f);
  BOOST_TEST(std::fabs(t.positive_targets[0][2]) < 1e-6f);
  // No object: every anchor is background.
  const models::RpnTargets none = models::rpn_targets(anchors, {}, o, rng);
  BOOST_TEST(none.labels == std::vector<int>({0, 0, 0, 0}));
}

// By hand: 2 anchors x 1 cell; zero deltas keep the anchors; the lower logit's box
// overlapping the higher one's above 0.7 is suppressed; clipping and top-N apply.
BOOST_AUTO_TEST_CASE(proposal_layer_by_hand) {
  Tensor obj({1, 3, 1, 1}), deltas({1, 12, 1, 1});
  obj[0] = 2.0f;
  obj[1] = 1.0f;
  obj[2] = 3.0f;
  const std::vector<Box> anchors = {{0, 0, 10, 10}, {0, 0, 10, 11}, {20, -5, 40, 10}};
  models::ProposalLayerOptions o;
  const models::Proposals p = models::propose(obj, deltas, 0, anchors, 30, 30, o);
  BOOST_REQUIRE(p.boxes.size() == 2u);  // anchor 1 (IoU 10/11 with anchor 0) suppressed
  BOOST_TEST(p.boxes[0].x1 == 20.0f);   // the best first, clipped to the 30 x 30 image
  BOOST_TEST(p.boxes[0].x2 == 30.0f);
  BOOST_TEST(p.boxes[0].y1 == 0.0f);
  BOOST_TEST(std::fabs(p.scores[0] - 1.0f / (1.0f + std::exp(-3.0f))) < 1e-7f);
  o.post_nms_top_n = 1;
  BOOST_TEST(models::propose(obj, deltas, 0, anchors, 30, 30, o).boxes.size() == 1u);
  o.pre_nms_top_n = 1;  // only the best logit is decoded at all
  o.post_nms_top_n = 10;
  BOOST_TEST(models::propose(obj, deltas, 0, anchors, 30, 30, o).boxes.size() == 1u);
}

// NMS stopping after N kept boxes keeps the same first N as NMS over everything.
BOOST_AUTO_TEST_CASE(nms_with_max_keep_is_a_prefix) {
  Rng rng(12);
  std::vector<Box> boxes;
  std::vector<float> scores;
  for (int i = 0; i < 400; ++i) {
    const float x = rng.uniform(0, 100), y = rng.uniform(0, 100);
    boxes.push_back({x, y, x + rng.uniform(4, 40), y + rng.uniform(4, 40)});
    scores.push_back(rng.uniform());
  }
  const std::vector<int> all = nms(boxes, scores, 0.5);
  BOOST_REQUIRE(all.size() > 30u);
  for (int k : {0, 1, 7, 30, int(all.size()), int(all.size()) + 5}) {
    const std::vector<int> some = nms(boxes, scores, 0.5, k);
    BOOST_TEST(some.size() == std::min<size_t>(k, all.size()));
    BOOST_TEST(std::equal(some.begin(), some.end(), all.begin()));
  }
}

// The four losses of one batch of the tiny scenes are finite and positive, the head sees
// the ground truth among its RoIs, and a step on them moves the RPN and the head.
BOOST_AUTO_TEST_CASE(four_losses_of_a_batch) {
  const DetectionDataset ds = load_detection_dataset(tiny_data() + "/train", 2);
  Rng rng(4);
  models::FasterRcnnConfig cfg;
  cfg.fast_rcnn.num_classes = static_cast<int>(ds.class_names.size()) + 1;
  cfg.fast_rcnn.hidden = 32;
  models::FasterRcnn net(cfg, rng);
  Rng step(9);
  const models::DetectionBatch b = models::make_detection_batch(ds, {0, 1}, true, step);
  const models::FasterRcnnLoss L = net.losses(b, {}, step);
  for (const Var* v : {&L.rpn_objectness, &L.rpn_box, &L.classification, &L.localization})
    BOOST_TEST((std::isfinite(v->item()) && v->item() >= 0.0f));
  BOOST_TEST(L.rpn_objectness.item() > 0.5f);  // untrained: ~log 2
  BOOST_TEST(L.foreground >= int64_t(ds.items[0].boxes.size() + ds.items[1].boxes.size()));
  L.total.backward();
  double g_rpn = 0, g_head = 0;
  for (float v : net.rpn->cls_logits->weight.grad()) g_rpn += std::fabs(v);
  for (float v : net.fast_rcnn->cls_score->weight.grad()) g_head += std::fabs(v);
  BOOST_TEST(g_rpn > 0.0);
  BOOST_TEST(g_head > 0.0);
  // Parameter names say what they belong to (and the classify backbone loads into them).
  BOOST_TEST(net.named_parameters().front().first == "fast_rcnn.backbone.0.weight");
  // --roi-align: the same batch pooled by RoIAlign gives other, still finite, losses.
  cfg.roi_align = true;
  Rng rng2(4);
  models::FasterRcnn aligned(cfg, rng2);
  BOOST_TEST(aligned.fast_rcnn->roi_align);
  Rng step2(9);
  const models::DetectionBatch b2 = models::make_detection_batch(ds, {0, 1}, true, step2);
  const models::FasterRcnnLoss L2 = aligned.losses(b2, {}, step2);
  BOOST_TEST(std::isfinite(L2.classification.item()));
  BOOST_TEST(L2.rpn_objectness.item() == L.rpn_objectness.item());  // the RPN is the same
  BOOST_TEST(L2.classification.item() != L.classification.item());
}

BOOST_AUTO_TEST_CASE(tiny_training_then_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("faster_rcnn_train");
  const std::string model = dir + "/m.safetensors";
  const json tj = detlab_test::train_on_1_and_2_threads(
      faster, "train --scratch --quiet --epochs 4 --lr 0.002 --val-images 6 --data " + data, dir);
  BOOST_TEST(tj["final_loss"].get<double>() < 0.8 * tj["first_loss"].get<double>(),
             "loss " << tj["first_loss"] << " -> " << tj["final_loss"]);
  const auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(models::FasterRcnnConfig::from_json(meta.at("config")).classes() == 10);
  BOOST_TEST(read_file_text(dir + "/m.csv").find("train_rpn_cls") != std::string::npos);

  const json ej = detlab_test::json_output(faster(
      "eval --json --threads 1 --cache-dir " + dir + "/cache --data " + data + " --model " + model,
      dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  detlab_test::check_ap_in_range(ej);
  const json& rec = ej["proposal_recall"];
  const auto r50 = rec["rpn_recall_50"].get<std::vector<double>>();
  BOOST_TEST(r50.size() == rec["num_proposals"].size());
  for (size_t i = 1; i < r50.size(); ++i) BOOST_TEST(r50[i] >= r50[i - 1]);  // more boxes, more recall
  BOOST_TEST(ej["proposal_seconds_per_image"].get<double>() > 0.0);

  detlab_test::predict_tiny_scene(
      faster, data, "--threshold 0 --show-anchors --show-proposals 20 --model " + model, dir);
  for (const char* f : {"000001.faster_rcnn.json", "000001.objectness.png", "000001.anchors.png",
                        "000001.proposals.png"})
    BOOST_TEST(fs::exists(dir + "/pred/" + f), f);

  const json bj = detlab_test::bench_tiny_scenes(
      faster, data, "--model " + model,
      {"backbone", "rpn", "proposal_layer", "roi_pool", "head", "nms", "without_proposals"}, dir);
  const json& s = bj["seconds_per_image"];
  BOOST_TEST(std::fabs(s["proposals"].get<double>() -
                       (s["rpn"].get<double>() + s["proposal_layer"].get<double>())) < 1e-9);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("faster_rcnn_bad");
  detlab_test::check_region_detector_bad_inputs(faster, data, dir, "not a faster_rcnn model");
  // A Fast R-CNN model is not a Faster R-CNN model.
  Rng rng(1);
  models::FastRcnnConfig fcfg;
  models::FastRcnn fnet(fcfg, rng);
  std::vector<std::string> names(10, "x");
  nn::save_checkpoint(dir + "/fast.safetensors", fnet,
                      {{"config", fcfg.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_exit_1_naming(faster("eval --model " + dir + "/fast.safetensors --data " + data, dir),
                                   "fast.safetensors", "not a faster_rcnn model");
  models::FasterRcnnConfig cfg;
  models::FasterRcnn net(cfg, rng);
  nn::save_checkpoint(dir + "/f.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_broken_image(faster, "predict --model " + dir + "/f.safetensors", dir);
  detlab_test::check_usage_errors(
      faster, dir,
      {"train --anchor-sizes 0", "train --aspect-ratios 16,1", "train --rpn-batch 0",
       "eval --post-nms 0", "predict", "bench --pre-nms -1", "train --rpn-positive-iou 1.5"});
  detlab_test::check_exit_1_naming(
      faster("train --quiet --scratch --rpn-negative-iou 0.8 --data " + data + " --out " + dir, dir),
      "--rpn-negative-iou");
}
