// Lesson 07's keypoint branch ("Mask R-CNN also does pose", He et al. 2017 §5): against
// torchvision 0.14 (tests/golden/torchvision/keypoint_rcnn.json, made by
// tools/golden/make_torchvision_keypoint_golden.py: keypoints_to_heatmap,
// keypointrcnn_loss and its gradient, heatmaps_to_keypoints), the head's shapes, a
// heatmap peaked at a joint decoding back to it, the figures' joints mirrored with their
// image, and a tiny end-to-end run of `bin/mask_rcnn --keypoints` (1 and 2 threads give
// the same model bytes; eval reports PCK; predict draws the skeleton; bad inputs fail
// with one line naming the file).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/figures.h"
#include "models/keypoint_rcnn.h"
#include "nn/checkpoint.h"
#include "program_checks.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dl;

namespace {

const detlab_test::Program mask_rcnn{"mask_rcnn"};

const json& golden() {
  static const json doc = json::parse(read_file_text(
      std::string(DETLAB_SOURCE_DIR) + "/tests/golden/torchvision/keypoint_rcnn.json"));
  return doc.at("keypoint");
}

Tensor dec(const json& j) {
  return Tensor(j.at("shape").get<Shape>(), j.at("data").get<std::vector<float>>());
}

// |got - want| <= 1e-5 * max(1, max |want|), element by element, sizes equal.
void expect_close(const std::vector<float>& got, const Tensor& want, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(static_cast<int64_t>(got.size()) == want.numel(),
                        what << ": " << got.size() << " values vs torchvision " << want.numel());
  double scale = 1.0, err = 0.0;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(double(want[i])));
  for (int64_t i = 0; i < want.numel(); ++i) err = std::max(err, std::fabs(double(got[i]) - double(want[i])));
  BOOST_TEST(err <= 1e-5 * scale, what << ": max abs diff " << err);
}

std::vector<Box> boxes_of(const Tensor& t) {
  std::vector<Box> out;
  for (int64_t i = 0; i < t.size(0); ++i) out.push_back({t[i * 4], t[i * 4 + 1], t[i * 4 + 2], t[i * 4 + 3]});
  return out;
}

// A tiny figures train/test pair (64 x 64 images), made once per test process.
const std::string& tiny_figures() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = detlab_test::temp_dir("keypoint_rcnn_data");
  for (const char* split : {"train", "test"}) {
    const bool train = split[1] == 'r';
    detlab_test::Run r = detlab_test::run_program("datagen",
                                     std::string("figures --quiet --size 64 --count ") +
                                         (train ? "12" : "6") + " --seed " + (train ? "3" : "4") +
                                         " --out " + dir + "/" + split,
                                     dir);
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  }
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keypoint_branch_against_torchvision)

BOOST_AUTO_TEST_CASE(targets_loss_gradient_and_decoding) {
  const json& g = golden();
  const int M = g.at("M"), K = g.at("joints");
  // keypoints_to_heatmap: the matched person's joints for every RoI of both images
  std::vector<std::vector<float>> joints;
  std::vector<Box> rois;
  for (size_t n = 0; n < g.at("proposals").size(); ++n) {
    const Tensor gt = dec(g["gt_keypoints"][n]);
    const std::vector<Box> p = boxes_of(dec(g["proposals"][n]));
    const std::vector<int> m = g["matched"][n].get<std::vector<int>>();
    for (size_t i = 0; i < p.size(); ++i) {
      joints.emplace_back(gt.data() + m[i] * K * 3, gt.data() + (m[i] + 1) * K * 3);
      rois.push_back(p[i]);
    }
  }
  const models::KeypointTargets t = models::keypoint_targets(joints, rois, M);
  const std::vector<int> want_valid = g["valid"].get<std::vector<int>>();
  const std::vector<int> want_index = g["heatmap_index"].get<std::vector<int>>();
  BOOST_REQUIRE(t.valid.size() == want_valid.size());
  for (size_t i = 0; i < want_valid.size(); ++i) {
    BOOST_TEST(int(t.valid[i]) == want_valid[i], "valid " << i);
    if (want_valid[i]) BOOST_TEST(t.index[i] == want_index[i], "index " << i);
  }

  // keypointrcnn_loss and its gradient
  Var logits(dec(g["logits"]), true);
  Var loss = models::keypoint_loss(logits, t);
  expect_close({loss.item()}, Tensor({1}, {g["loss"].get<float>()}), "keypointrcnn_loss");
  loss.backward();
  const Tensor& grad = logits.grad();
  expect_close(std::vector<float>(grad.begin(), grad.end()), dec(g["grad"]), "keypointrcnn_loss gradient");

  // heatmaps_to_keypoints: x, y (torchvision's third row, 1, is not kept) and scores
  const models::HeatmapKeypoints kp =
      models::heatmaps_to_keypoints(dec(g["maps"]), boxes_of(dec(g["boxes"])));
  const Tensor want_kp = dec(g["keypoints"]);  // [R, K, 3]
  std::vector<float> want_xy;
  for (int64_t i = 0; i < want_kp.numel() / 3; ++i) want_xy.insert(want_xy.end(), {want_kp[3 * i], want_kp[3 * i + 1]});
  expect_close(kp.xy, Tensor({static_cast<int64_t>(want_xy.size())}, want_xy), "heatmaps_to_keypoints xy");
  expect_close(kp.score, dec(g["scores"]), "heatmaps_to_keypoints scores");
}

BOOST_AUTO_TEST_CASE(no_valid_joint_gives_zero_loss_with_a_gradient) {
  Var logits(Tensor({2, 3, 4, 4}, std::vector<float>(96, 0.5f)), true);
  models::KeypointTargets t;
  t.valid.assign(6, 0);
  t.index.assign(6, 0);
  Var loss = models::keypoint_loss(logits, t);
  BOOST_TEST(loss.item() == 0.0f);
  loss.backward();
  for (float v : logits.grad()) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(bicubic_keeps_a_constant_and_the_same_size) {
  std::vector<float> plane(5 * 7, 2.5f);
  for (float v : models::resize_bicubic(plane.data(), 5, 7, 11, 3)) BOOST_TEST(std::fabs(v - 2.5f) < 1e-5);
  for (int i = 0; i < 35; ++i) plane[i] = float(i % 7) * 0.3f - float(i / 7);
  const std::vector<float> same = models::resize_bicubic(plane.data(), 5, 7, 5, 7);
  for (int i = 0; i < 35; ++i) BOOST_TEST(std::fabs(same[i] - plane[i]) < 1e-5);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keypoint_rcnn_model)

BOOST_AUTO_TEST_CASE(head_shapes_and_a_peak_decodes_to_its_joint) {
  Rng rng(1);
  models::KeypointHeadConfig cfg;
  cfg.joints = 3;
  cfg.channels = 4;
  cfg.convs = 2;
  models::KeypointHead head(8, cfg, rng);
  Tensor rois({2, 5}, {0, 4, 4, 40, 60, 0, 0, 0, 20, 20});
  Var pooled = head.pool_rois(Var(Tensor({1, 8, 16, 16}, std::vector<float>(8 * 256, 0.1f))), rois);
  BOOST_TEST(pooled.shape() == (Shape{2, 8, 14, 14}));
  BOOST_TEST(head(pooled).shape() == (Shape{2, 3, 56, 56}));

  // One RoI 56 x 56 px at (10, 20): the target cell of a joint, peaked in its heatmap,
  // decodes to that cell's centre.
  const Box box{10, 20, 66, 76};
  const std::vector<float> joint = {30.3f, 61.9f, 2, 0, 0, 0, 70, 30, 2};  // 2nd unlabelled, 3rd outside
  const models::KeypointTargets t = models::keypoint_targets({joint}, {box}, 56);
  BOOST_TEST(t.valid == (std::vector<uint8_t>{1, 0, 0}));
  BOOST_TEST(t.index[0] == 41 * 56 + 20);
  Tensor maps({1, 3, 56, 56});
  maps[t.index[0]] = 10.0f;
  const models::HeatmapKeypoints kp = models::heatmaps_to_keypoints(maps, {box});
  BOOST_TEST(kp.xy[0] == 30.5f);
  BOOST_TEST(kp.xy[1] == 61.5f);
}

BOOST_AUTO_TEST_CASE(mirrored_figures_swap_left_and_right) {
  KeypointDataset ds;
  ds.joint_names.assign(kFigureJoints, "j");
  KeypointItem item;
  item.image = Image(20, 10, 3);
  item.box = {2, 1, 9, 8};
  for (int j = 0; j < kFigureJoints; ++j) item.keypoints.insert(item.keypoints.end(), {float(j), 5, 2});
  ds.items.push_back(item);
  Rng rng(0);
  models::KeypointBatch b;
  for (int tries = 0; tries < 64; ++tries) {  // until the draw mirrors the image
    b = models::make_keypoint_batch(ds, {0}, true, figure_mirror(), rng);
    if (b.detection.flipped[0]) break;
  }
  BOOST_REQUIRE(b.detection.flipped[0]);
  BOOST_TEST(b.detection.boxes[0][0].x1 == 11.0f);
  BOOST_TEST(b.detection.boxes[0][0].x2 == 18.0f);
  const std::vector<float>& kp = b.keypoints[0][0];
  for (int j = 0; j < kFigureJoints; ++j)  // joint mirror[j] holds joint j's mirrored x
    BOOST_TEST(kp[3 * figure_mirror()[j]] == 20.0f - float(j));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keypoint_rcnn_program)

BOOST_AUTO_TEST_CASE(tiny_training_then_eval_and_predict) {
  const std::string data = tiny_figures();
  const std::string dir = detlab_test::temp_dir("keypoint_rcnn_train");
  const std::string model = dir + "/m.safetensors";
  const json tj = detlab_test::train_on_1_and_2_threads(
      mask_rcnn,
      "train --keypoints --no-init --scratch --quiet --epochs 2 --lr 0.002 --keypoint-channels 8 "
      "--val-images 3 --data " + data,
      dir);
  BOOST_TEST(tj["final_loss"].get<double>() < tj["first_loss"].get<double>(),
             "loss " << tj["first_loss"] << " -> " << tj["final_loss"]);
  BOOST_TEST(read_file_text(dir + "/m.csv").find("train_keypoint_loss") != std::string::npos);
  const auto meta = nn::read_checkpoint_metadata(model);
  const auto cfg = models::KeypointRcnnConfig::from_json(meta.at("config"));
  BOOST_TEST(cfg.keypoint_head.channels == 8);
  BOOST_TEST(cfg.classes() == 1);

  const json ej = detlab_test::json_output(
      mask_rcnn("eval --keypoints --json --threads 1 --data " + data + " --model " + model, dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  const double pck = ej["stages"][0]["pck"].get<double>();
  BOOST_TEST((pck >= 0 && pck <= 1));
  BOOST_TEST(ej["stages"][0]["per_joint"].size() == 14u);
  const double ap = ej["box_ap"].get<double>();
  BOOST_TEST((ap >= 0 && ap <= 1));

  const json pj = detlab_test::json_output(
      mask_rcnn("predict --keypoints --json --threads 1 --threshold 0 --out " + dir + "/pred --model " +
                    model + " " + data + "/test/images/000001.png",
                dir));
  BOOST_REQUIRE(pj.size() == 1u);
  BOOST_TEST(pj[0]["joints"].size() == 14u);
  BOOST_TEST(fs::exists(pj[0]["annotated"].get<std::string>()));
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_figures();
  const std::string dir = detlab_test::temp_dir("keypoint_rcnn_bad");
  detlab_test::check_exit_1_naming(
      mask_rcnn("eval --keypoints --model " + dir + "/nope.safetensors --data " + data, dir),
      "nope.safetensors");
  // A Mask R-CNN (or any other program's) model file is not a keypoint_rcnn model.
  Rng rng(1);
  models::FasterRcnnConfig fcfg;
  models::FasterRcnn fnet(fcfg, rng);
  nn::save_checkpoint(dir + "/f.safetensors", fnet,
                      {{"config", fcfg.to_json()}, {"classes", json(std::vector<std::string>(10, "x")).dump()}});
  detlab_test::check_exit_1_naming(
      mask_rcnn("eval --keypoints --model " + dir + "/f.safetensors --data " + data, dir),
      "f.safetensors", "not a keypoint_rcnn model");
  detlab_test::check_exit_1_naming(
      mask_rcnn("predict --keypoints --model " + dir + "/f.safetensors " + data + "/test/images/000001.png", dir),
      "f.safetensors", "not a keypoint_rcnn model");
  // --init must be a faster_rcnn model; the data must be the pose figures.
  detlab_test::save_classify_checkpoint(dir + "/classify.safetensors");
  detlab_test::check_exit_1_naming(
      mask_rcnn("train --keypoints --quiet --init " + dir + "/classify.safetensors --data " + data +
                    " --model " + dir + "/x.safetensors",
                dir),
      "classify.safetensors", "not a faster_rcnn model");
  detlab_test::check_exit_1_naming(
      mask_rcnn("train --keypoints --quiet --no-init --scratch --data " + dir + "/nowhere --model " + dir +
                    "/x.safetensors",
                dir),
      "nowhere");
  BOOST_TEST(!fs::exists(dir + "/x.safetensors"));
  detlab_test::check_usage_errors(mask_rcnn, dir,
                                  {"train --keypoints --keypoint-rois 0", "eval --keypoints --bogus"});
}

BOOST_AUTO_TEST_SUITE_END()
