// Lesson 07's Mask R-CNN: the mask branch against torchvision 0.14
// (tests/golden/torchvision/mask_rcnn.json, made by tools/golden/make_torchvision_mask_golden.py:
// project_masks_on_boxes, maskrcnn_loss and its gradient, maskrcnn_inference), the
// head's shapes, the loss touching the ground-truth class's mask only, the instance masks
// lined up with their boxes and mirrored with their image, mask AP of a perfect detector,
// the five losses of a batch, and a tiny end-to-end run of bin/mask_rcnn (1 and 2 threads
// give the same model bytes, from a faster_rcnn model or not; eval reports box and mask
// AP; predict writes RLE masks; bench times the mask stages; bad inputs fail with one line
// naming the file).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/instance_masks.h"
#include "eval/detection_eval.h"
#include "models/mask_rcnn.h"
#include "nn/checkpoint.h"
#include "program_checks.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dl;

namespace {

const detlab_test::Program mask_rcnn{"mask_rcnn"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("mask_rcnn_data", 20, 6); }

const json& golden() {
  static const json doc = json::parse(read_file_text(
      std::string(DETLAB_SOURCE_DIR) + "/tests/golden/torchvision/mask_rcnn.json"));
  return doc.at("mask");
}

Tensor dec(const json& j) {
  return Tensor(j.at("shape").get<Shape>(), j.at("data").get<std::vector<float>>());
}

// |got - want| <= 1e-5 * max(1, max |want|), element by element, sizes equal.
void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(got.numel() == want.numel(),
                        what << ": " << got.numel() << " values vs torchvision " << want.numel());
  double scale = 1.0, err = 0.0;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(double(want[i])));
  for (int64_t i = 0; i < want.numel(); ++i)
    err = std::max(err, std::fabs(double(got[i]) - double(want[i])));
  BOOST_TEST(err <= 1e-5 * scale, what << ": max abs diff " << err);
}

std::vector<Box> boxes_of(const Tensor& t) {
  std::vector<Box> out;
  for (int64_t i = 0; i < t.size(0); ++i) out.push_back({t[i * 4], t[i * 4 + 1], t[i * 4 + 2], t[i * 4 + 3]});
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mask_branch_against_torchvision)

BOOST_AUTO_TEST_CASE(mask_targets_loss_gradient_and_inference) {
  const json& g = golden();
  const int M = g.at("M");
  std::vector<float> targets;
  for (size_t n = 0; n < g.at("gt_masks").size(); ++n) {
    const Tensor t = models::project_masks_on_boxes(dec(g["gt_masks"][n]), boxes_of(dec(g["proposals"][n])),
                                                    g["matched"][n].get<std::vector<int>>(), M);
    BOOST_TEST(t.dim() == 3);
    targets.insert(targets.end(), t.begin(), t.end());
  }
  const Tensor want_targets = dec(g["targets"]);
  expect_close(Tensor(want_targets.shape(), targets), want_targets, "project_masks_on_boxes");

  const std::vector<int> labels = g["labels"].get<std::vector<int>>();
  Var logits(dec(g["logits"]), true);
  Var loss = models::mask_loss(logits, labels, Tensor(want_targets.shape(), targets));
  BOOST_TEST(std::fabs(loss.item() - g["loss"].get<double>()) <= 1e-5, "loss " << loss.item());
  loss.backward();
  expect_close(logits.grad(), dec(g["grad"]), "maskrcnn_loss gradient");

  expect_close(models::mask_probabilities(dec(g["logits"]), labels), dec(g["probs"]),
               "maskrcnn_inference");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(head_shapes_and_pooling_choice) {
  Rng rng(3);
  for (bool roi_pool : {false, true}) {
    models::MaskHeadConfig cfg;
    cfg.roi_pool = roi_pool;
    models::MaskHead head(8, 5, cfg, rng);
    Tensor feat({2, 8, 10, 12});
    for (float& v : feat) v = rng.normal(0.0f, 1.0f);
    const Tensor rois({3, 5}, std::vector<float>{0, 2, 3, 20, 30, 1, 5.5f, 4.25f, 17, 22, 1, 0, 0, 48, 40});
    const Var pooled = head.pool_rois(Var(feat), rois);
    BOOST_TEST((pooled.shape() == Shape{3, 8, 14, 14}));
    BOOST_TEST((head(pooled).shape() == Shape{3, 5, 28, 28}));
  }
  // RoIAlign and RoI pooling read the same RoI differently.
  models::MaskHeadConfig a, p;
  p.roi_pool = true;
  Rng r1(1), r2(1);
  models::MaskHead ha(4, 2, a, r1), hp(4, 2, p, r2);
  Tensor feat({1, 4, 8, 8});
  for (int64_t i = 0; i < feat.numel(); ++i) feat[i] = static_cast<float>(i % 7);
  const Tensor rois({1, 5}, std::vector<float>{0, 1.3f, 2.6f, 20.2f, 25.1f});
  const Tensor va = ha.pool_rois(Var(feat), rois).value(), vp = hp.pool_rois(Var(feat), rois).value();
  BOOST_TEST(!std::equal(va.begin(), va.end(), vp.begin()));
}

BOOST_AUTO_TEST_CASE(loss_only_on_the_ground_truth_class_mask) {
  Rng rng(4);
  Tensor x({2, 3, 4, 4});
  for (float& v : x) v = rng.normal(0.0f, 1.0f);
  Tensor target({2, 4, 4});
  for (int64_t i = 0; i < target.numel(); ++i) target[i] = (i % 3 == 0) ? 1.0f : 0.0f;
  const std::vector<int> labels{2, 0};
  Var logits(x, true);
  Var loss = models::mask_loss(logits, labels, target);
  // By hand: mean over 2 x 16 pixels of log(1 + e^-x) for target 1, log(1 + e^x) for 0.
  double want = 0;
  for (int r = 0; r < 2; ++r)
    for (int j = 0; j < 16; ++j) {
      const double v = x[(r * 3 + labels[r]) * 16 + j], t = target[r * 16 + j];
      want += t * std::log1p(std::exp(-v)) + (1 - t) * std::log1p(std::exp(v));
    }
  BOOST_TEST(std::fabs(loss.item() - want / 32) < 1e-5);
  loss.backward();
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) {
      double s = 0;
      for (int j = 0; j < 16; ++j) s += std::fabs(logits.grad()[(r * 3 + c) * 16 + j]);
      BOOST_TEST((c == labels[r] ? s > 0 : s == 0), "roi " << r << " class " << c);  // no competition
    }
  // No positive RoI: zero, and a backward pass still runs.
  Var none(Tensor({0, 3, 4, 4}), true);
  Var z = models::mask_loss(none, {}, Tensor({0, 4, 4}));
  BOOST_TEST(z.item() == 0.0f);
  BOOST_CHECK_THROW(models::mask_loss(logits, {3, 0}, target), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(instance_masks_fit_their_boxes_and_mirror_with_the_image) {
  const DetectionDataset ds = load_detection_dataset(tiny_data() + "/train");
  const auto masks = load_instance_masks(ds);
  BOOST_REQUIRE(masks.size() == ds.items.size());
  int checked = 0;
  for (size_t i = 0; i < ds.items.size(); ++i) {
    BOOST_REQUIRE(masks[i].size() == ds.items[i].boxes.size());
    for (size_t j = 0; j < masks[i].size(); ++j, ++checked) {
      const auto bb = mask_bbox(masks[i][j]);  // x, y, w, h
      const Box& b = ds.items[i].boxes[j];
      BOOST_TEST(bb[2] > 0);
      BOOST_TEST(std::fabs(bb[0] - b.x1) <= 1.0);
      BOOST_TEST(std::fabs(bb[1] - b.y1) <= 1.0);
      BOOST_TEST(std::fabs(bb[0] + bb[2] - b.x2) <= 1.0);
      BOOST_TEST(std::fabs(bb[1] + bb[3] - b.y2) <= 1.0);
    }
  }
  BOOST_TEST(checked > 10);
  // A batch whose image is mirrored carries the mirrored masks and boxes.
  for (uint64_t seed = 1; seed < 20; ++seed) {
    Rng rng(seed);
    const models::MaskBatch b = models::make_mask_batch(ds, masks, {0}, true, rng);
    if (!b.detection.flipped[0]) continue;
    const Mask& m = masks[0][0];
    const Tensor& t = b.masks[0];
    BOOST_REQUIRE((t.shape() == Shape{int64_t(masks[0].size()), m.height, m.width}));
    for (int y = 0; y < m.height; ++y)
      for (int x = 0; x < m.width; ++x) BOOST_TEST_REQUIRE(t[y * m.width + x] == m.at(m.width - 1 - x, y));
    const auto bb = mask_bbox(m);
    BOOST_TEST(std::fabs(b.detection.boxes[0][0].x1 - (m.width - bb[0] - bb[2])) <= 1.0);
    return;
  }
  BOOST_FAIL("no seed mirrored the image");
}

BOOST_AUTO_TEST_CASE(ground_truth_as_detections_has_mask_ap_1) {
  const DetectionDataset ds = load_detection_dataset(tiny_data() + "/test");
  const auto masks = load_instance_masks(ds);
  size_t i = 0;
  const DetectionEval e = evaluate_detector(ds, [&](const DetectionItem& item) {
    ImageResult r;
    for (size_t j = 0; j < item.boxes.size(); ++j)
      r.detections.push_back({item.boxes[j], item.labels[j], 0.9f, masks[i][j].data, {}});
    ++i;
    return r;
  });
  BOOST_REQUIRE(e.has_masks);
  BOOST_TEST(e.coco_segm.stats[0] == 1.0);
  // A mask shifted by 3 pixels is worse.
  i = 0;
  const DetectionEval shifted = evaluate_detector(ds, [&](const DetectionItem& item) {
    ImageResult r;
    for (size_t j = 0; j < item.boxes.size(); ++j) {
      const Mask& m = masks[i][j];
      std::vector<uint8_t> s(m.data.size(), 0);
      for (int y = 0; y < m.height; ++y)
        for (int x = 3; x < m.width; ++x) s[y * m.width + x] = m.at(x - 3, y);
      r.detections.push_back({item.boxes[j], item.labels[j], 0.9f, s, {}});
    }
    ++i;
    return r;
  });
  BOOST_TEST(shifted.coco_segm.stats[0] < 0.9);
  BOOST_TEST(shifted.coco.stats[0] == 1.0);  // the boxes are still perfect
}

BOOST_AUTO_TEST_CASE(five_losses_of_a_batch) {
  const DetectionDataset ds = load_detection_dataset(tiny_data() + "/train");
  const auto masks = load_instance_masks(ds);
  Rng rng(2);
  models::MaskRcnnConfig cfg;
  cfg.mask_head.channels = 8;
  models::MaskRcnn net(cfg, rng);
  models::MaskRcnnTrainingOptions o;
  o.mask_rois_per_image = 3;
  Rng step(7);
  const models::MaskBatch b = models::make_mask_batch(ds, masks, {0, 1}, true, step);
  const models::MaskRcnnLoss L = net.losses(b, o, step);
  BOOST_TEST(L.mask_rois > 0);
  BOOST_TEST(L.mask_rois <= 6);
  BOOST_TEST(std::fabs(L.mask.item() - std::log(2.0)) < 0.2);  // fresh head: p ~ 1/2
  const double sum = L.faster.total.item() + L.mask.item();
  BOOST_TEST(std::fabs(L.total.item() - sum) < 1e-4 * std::max(1.0, sum));
  L.total.backward();
  double g = 0;
  for (float v : net.mask_head->logits->weight.grad()) g += std::fabs(v);
  BOOST_TEST(g > 0);
}

BOOST_AUTO_TEST_CASE(tiny_training_then_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("mask_rcnn_train");
  const std::string model = dir + "/m.safetensors";
  const json tj = detlab_test::train_on_1_and_2_threads(
      mask_rcnn,
      "train --no-init --scratch --quiet --epochs 3 --lr 0.002 --mask-channels 8 --val-images 6 --data " + data,
      dir);
  BOOST_TEST(tj["final_loss"].get<double>() < tj["first_loss"].get<double>(),
             "loss " << tj["first_loss"] << " -> " << tj["final_loss"]);
  BOOST_TEST(read_file_text(dir + "/m.csv").find("train_mask_loss") != std::string::npos);
  const auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(models::MaskRcnnConfig::from_json(meta.at("config")).mask_head.channels == 8);

  const json ej = detlab_test::json_output(
      mask_rcnn("eval --json --threads 1 --data " + data + " --model " + model, dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  detlab_test::check_ap_in_range(ej);
  const double mask_ap = ej["mask_ap"].get<double>();
  BOOST_TEST((mask_ap >= 0 && mask_ap <= 1));
  BOOST_TEST(ej["mask_pooling"] == "roi_align");

  const json entry = detlab_test::predict_tiny_scene(mask_rcnn, data, "--threshold 0 --model " + model, dir);
  const json& d0 = entry["detections"][0];
  const Rle rle = rle_from_string(d0["segmentation"]["counts"].get<std::string>(), 64, 64);
  BOOST_TEST(rle.height == 64);

  detlab_test::bench_tiny_scenes(mask_rcnn, data, "--model " + model,
                                 {"backbone", "rpn", "mask_roi_align", "mask_head", "paste_masks"}, dir);

  // compare: a row per model of the program (PROGRAM:MODEL), with the mask AP column.
  fs::create_directories(dir + "/models");
  fs::copy_file(model, dir + "/models/mask_rcnn.safetensors");
  fs::copy_file(model, dir + "/models/mask_rcnn_b.safetensors");
  const json cj = detlab_test::json_output(detlab_test::run_program(
      "compare", "--methods mask_rcnn,mask_rcnn:mask_rcnn_b --json --threads 1 --data " + data +
                     " --models " + dir + "/models --out " + dir + "/cmp",
      dir));
  BOOST_REQUIRE(cj["methods"].size() == 2u);
  BOOST_TEST(cj["methods"][1]["method"] == "mask_rcnn_b");
  BOOST_TEST(cj["methods"][0]["mask_ap"].get<double>() == mask_ap);
  BOOST_TEST(cj["methods"][1]["mask_ap"].get<double>() == mask_ap);
}

BOOST_AUTO_TEST_CASE(starts_from_a_faster_rcnn_model) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("mask_rcnn_init");
  Rng rng(9);
  models::FasterRcnnConfig fcfg;
  fcfg.fast_rcnn.hidden = 32;  // not the default: the architecture comes from the file
  models::FasterRcnn fnet(fcfg, rng);
  const std::vector<std::string> names = load_detection_dataset(data + "/test").class_names;
  nn::save_checkpoint(dir + "/f.safetensors", fnet,
                      {{"config", fcfg.to_json()}, {"classes", json(names).dump()}});
  const json tj = detlab_test::train_on_1_and_2_threads(
      mask_rcnn,
      "train --quiet --epochs 1 --limit 4 --mask-channels 4 --val-images 2 --roi-pool --init " +
          dir + "/f.safetensors --data " + data,
      dir);
  BOOST_TEST(tj["init"] == dir + "/f.safetensors");
  const auto cfg = models::MaskRcnnConfig::from_json(nn::read_checkpoint_metadata(dir + "/m.safetensors").at("config"));
  BOOST_TEST(cfg.faster_rcnn.fast_rcnn.hidden == 32);
  BOOST_TEST(cfg.mask_head.roi_pool);
  const json ej = detlab_test::json_output(mask_rcnn(
      "eval --json --threads 1 --limit 2 --data " + data + " --model " + dir + "/m.safetensors", dir));
  BOOST_TEST(ej["mask_pooling"] == "roi_pool");
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("mask_rcnn_bad");
  detlab_test::check_region_detector_bad_inputs(mask_rcnn, data, dir, "not a mask_rcnn model");
  // A Faster R-CNN model is not a Mask R-CNN model, and a classify model is no --init.
  Rng rng(1);
  models::FasterRcnnConfig fcfg;
  models::FasterRcnn fnet(fcfg, rng);
  std::vector<std::string> names(10, "x");
  nn::save_checkpoint(dir + "/f.safetensors", fnet,
                      {{"config", fcfg.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_exit_1_naming(mask_rcnn("eval --model " + dir + "/f.safetensors --data " + data, dir),
                                   "f.safetensors", "not a mask_rcnn model");
  detlab_test::check_exit_1_naming(
      mask_rcnn("train --quiet --init " + dir + "/classify.safetensors --data " + data + " --model " +
                    dir + "/x.safetensors",
                dir),
      "classify.safetensors", "not a faster_rcnn model");
  detlab_test::check_exit_1_naming(
      mask_rcnn("train --quiet --init " + dir + "/f.safetensors --data " + data + " --model " + dir +
                    "/x.safetensors",
                dir),
      "f.safetensors", "classes");
  detlab_test::check_exit_1_naming(
      mask_rcnn("train --quiet --init " + dir + "/nope.safetensors --data " + data + " --model " +
                    dir + "/x.safetensors",
                dir),
      "nope.safetensors");
  models::MaskRcnnConfig cfg;
  models::MaskRcnn net(cfg, rng);
  nn::save_checkpoint(dir + "/m.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_broken_image(mask_rcnn, "predict --model " + dir + "/m.safetensors", dir);
  detlab_test::check_usage_errors(
      mask_rcnn, dir,
      {"train --mask-rois 0", "train --mask-channels 0", "eval --mask-threshold 2", "predict",
       "bench --max-masks -1", "train --bogus"});
  detlab_test::check_exit_1_naming(
      mask_rcnn("train --quiet --no-init --init x.safetensors --data " + data, dir), "--no-init");
  // Scenes without masks: nothing for the mask branch to learn from.
  fs::create_directories(dir + "/nomasks");
  fs::copy(data + "/train", dir + "/nomasks/train", fs::copy_options::recursive);
  fs::copy(data + "/test", dir + "/nomasks/test", fs::copy_options::recursive);
  json ann = json::parse(read_file_text(dir + "/nomasks/train/annotations.json"));
  for (json& a : ann["annotations"]) a.erase("segmentation");
  write_file_atomic(dir + "/nomasks/train/annotations.json", ann.dump());
  detlab_test::check_exit_1_naming(
      mask_rcnn("train --quiet --no-init --scratch --data " + dir + "/nomasks --model " + dir +
                    "/y.safetensors",
                dir),
      "annotations.json", "no segmentation");
}
