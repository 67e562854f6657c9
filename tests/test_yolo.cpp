// Lesson 06's YOLO v1: the loss of eq. 3 on a case computed by hand, its gradient against
// finite differences, the target encoding (which cell and which predictor is responsible,
// the sqrt targets), decoding (targets written into an output decode to the ground truth;
// class-specific confidences), the two heads' shapes, the model config's checks, and a
// tiny end-to-end run of bin/yolo (1 and 2 threads give the same model bytes, eval,
// predict with the grid picture, bench by stage, bad inputs).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/gradcheck.h"
#include "data/detection_dataset.h"
#include "image/image.h"
#include "models/yolo.h"
#include "nn/checkpoint.h"
#include "program_checks.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dl;

namespace {

const detlab_test::Program yolo{"yolo"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("yolo_data", 20, 6); }

models::YoloConfig tiny_config() {  // S = 2, B = 2, C = 2: 12 values per cell
  models::YoloConfig c;
  c.grid = 2;
  c.boxes = 2;
  c.num_classes = 2;
  return c;
}

// The value of cell (row, col), predictor b's field f (0..4 = x, y, sqrt w, sqrt h, conf).
float& box_value(Tensor& out, const models::YoloConfig& c, int n, int row, int col, int b, int f) {
  return out[((int64_t(n) * c.grid + row) * c.grid + col) * c.depth() + 5 * b + f];
}
float& class_value(Tensor& out, const models::YoloConfig& c, int n, int row, int col, int k) {
  return out[((int64_t(n) * c.grid + row) * c.grid + col) * c.depth() + 5 * c.boxes + k];
}

// The hand case: a 100 x 100 image, 50-pixel cells, one object of class 0,
// [12, 32, 48, 48]: centre (30, 40) -> cell (row 0, col 0), x = 30/50 = 0.6,
// y = 40/50 = 0.8, w = 36/100 -> sqrt 0.6, h = 16/100 -> sqrt 0.4.
//   predictor 0 of that cell: (0.5, 0.8, 0.6, 0.5), conf 0.8 -> centre (25, 40), 36 x 25:
//     [7, 27.5, 43, 52.5]; overlap 31 x 16 = 496, union 900 + 576 - 496 = 980,
//     IoU = 496 / 980 = 124 / 245 = 0.50612
//   predictor 1: (0.6, 0.8, 0.2, 0.2), conf 0.3 -> a 4 x 4 box inside the truth,
//     IoU = 16 / 576 = 0.0278                         -> predictor 0 is responsible
//   class scores of the cell (0.7, 0.1); confidences of the other cells:
//     (0, 1): 0.2, 0;  (1, 0): 0, -0.4;  (1, 1): 0.1, 0.1
Tensor hand_output(const models::YoloConfig& c) {
  Tensor out({1, 2, 2, c.depth()});
  const float p0[5] = {0.5f, 0.8f, 0.6f, 0.5f, 0.8f}, p1[5] = {0.6f, 0.8f, 0.2f, 0.2f, 0.3f};
  for (int f = 0; f < 5; ++f) box_value(out, c, 0, 0, 0, 0, f) = p0[f];
  for (int f = 0; f < 5; ++f) box_value(out, c, 0, 0, 0, 1, f) = p1[f];
  class_value(out, c, 0, 0, 0, 0) = 0.7f;
  class_value(out, c, 0, 0, 0, 1) = 0.1f;
  box_value(out, c, 0, 0, 1, 0, 4) = 0.2f;
  box_value(out, c, 0, 1, 0, 1, 4) = -0.4f;
  box_value(out, c, 0, 1, 1, 0, 4) = 0.1f;
  box_value(out, c, 0, 1, 1, 1, 4) = 0.1f;
  return out;
}

const std::vector<std::vector<Box>> kHandBoxes = {{{12, 32, 48, 48}}};
const std::vector<std::vector<int>> kHandLabels = {{0}};

}  // namespace

BOOST_AUTO_TEST_CASE(targets_of_the_hand_case) {
  const models::YoloConfig c = tiny_config();
  const auto t = models::yolo_targets(hand_output(c), kHandBoxes, kHandLabels, c, 100, 100);
  BOOST_REQUIRE(t.size() == 1u);
  BOOST_TEST(t[0].row == 0);
  BOOST_TEST(t[0].col == 0);
  BOOST_TEST(t[0].predictor == 0);
  BOOST_TEST(t[0].cls == 0);
  BOOST_TEST(t[0].x == 0.6f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(t[0].y == 0.8f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(t[0].sqrt_w == 0.6f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(t[0].sqrt_h == 0.4f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(t[0].iou == 124.0f / 245.0f, boost::test_tools::tolerance(1e-5f));
}

// eq. 3 on the hand case:
//   xy     5 * ((0.5 - 0.6)^2 + (0.8 - 0.8)^2)          = 0.05
//   wh     5 * ((0.6 - 0.6)^2 + (0.5 - 0.4)^2)          = 0.05
//   obj    (0.8 - 124/245)^2 = (72/245)^2 = 5184/60025   = 0.0863640
//   noobj  0.5 * (0.3^2 + 0.2^2 + 0^2 + 0^2 + 0.4^2 + 0.1^2 + 0.1^2) = 0.5 * 0.31 = 0.155
//   class  (0.7 - 1)^2 + (0.1 - 0)^2                     = 0.10
//   total                                                = 0.4413640
// The same image twice in a batch gives the same loss (divided by the images); another
// lambda_noobj scales only its term.
BOOST_AUTO_TEST_CASE(loss_of_the_hand_case) {
  const models::YoloConfig c = tiny_config();
  const Tensor out = hand_output(c);
  const auto t = models::yolo_targets(out, kHandBoxes, kHandLabels, c, 100, 100);
  const models::YoloLoss L = models::yolo_loss(Var(out), t, c);
  const auto tol = boost::test_tools::tolerance(1e-5f);
  BOOST_TEST(L.xy.item() == 0.05f, tol);
  BOOST_TEST(L.wh.item() == 0.05f, tol);
  BOOST_TEST(L.object.item() == 5184.0f / 60025.0f, tol);
  BOOST_TEST(L.no_object.item() == 0.155f, tol);
  BOOST_TEST(L.classification.item() == 0.10f, tol);
  BOOST_TEST(L.total.item() == 0.441364f, tol);

  Tensor two({2, 2, 2, c.depth()});
  std::copy(out.begin(), out.end(), two.begin());
  std::copy(out.begin(), out.end(), two.begin() + out.numel());
  const auto t2 = models::yolo_targets(two, {kHandBoxes[0], kHandBoxes[0]},
                                       {kHandLabels[0], kHandLabels[0]}, c, 100, 100);
  BOOST_TEST(t2.size() == 2u);
  BOOST_TEST(models::yolo_loss(Var(two), t2, c).total.item() == 0.441364f, tol);

  models::YoloLossOptions o;
  o.lambda_noobj = 1.0f;
  o.lambda_coord = 1.0f;
  const models::YoloLoss L1 = models::yolo_loss(Var(out), t, c, o);
  BOOST_TEST(L1.no_object.item() == 0.31f, tol);
  BOOST_TEST(L1.xy.item() == 0.01f, tol);
  BOOST_TEST(L1.classification.item() == 0.10f, tol);
}

// The loss is a sum of squares with targets fixed from the first evaluation: its gradient
// w.r.t. every output value matches central differences (including the zero gradient of
// the x, y, w, h and class values no term looks at).
BOOST_AUTO_TEST_CASE(loss_gradient_check) {
  const models::YoloConfig c = tiny_config();
  Rng rng(3);
  Tensor out({2, 2, 2, c.depth()});
  for (float& v : out) v = rng.uniform(-0.5f, 1.0f);
  const std::vector<std::vector<Box>> boxes = {{{12, 32, 48, 48}, {60, 55, 98, 99}}, {{40, 40, 60, 70}}};
  const std::vector<std::vector<int>> labels = {{0, 1}, {1}};
  const auto targets = models::yolo_targets(out, boxes, labels, c, 100, 100);
  BOOST_TEST(targets.size() == 3u);
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Var>& in) { return models::yolo_loss(in[0], targets, c).total; },
      {Var(out, true)});
  BOOST_TEST(r.ok, r.detail);
}

// Which cell and which predictor:
//  * a centre on the far border (x = width) belongs to the last column;
//  * two centres in one cell: the larger box is kept;
//  * no predictor overlaps the truth: the one closest in (x, y, sqrt w, sqrt h);
//  * equal IoUs: the lower index.
BOOST_AUTO_TEST_CASE(responsible_cell_and_predictor) {
  const models::YoloConfig c = tiny_config();
  Tensor out({1, 2, 2, c.depth()});  // all predictions zero: empty boxes, no overlap
  // cell (1, 1): predictor 1 is near the object (x 0.5, y 0.5, sqrt w 0.3), predictor 0 at 0
  box_value(out, c, 0, 1, 1, 1, 0) = 0.5f;
  box_value(out, c, 0, 1, 1, 1, 1) = 0.5f;
  box_value(out, c, 0, 1, 1, 1, 2) = 0.01f;  // a 0.01-pixel box: no overlap with the object
  const std::vector<std::vector<Box>> boxes = {{
      {90, 10, 100, 20},   // centre (95, 15): cell (0, 1)
      {5, 5, 15, 15},      // centre (10, 10): cell (0, 0), small
      {0, 0, 40, 40},      // centre (20, 20): cell (0, 0) too, larger: kept
      {60, 60, 90, 90},    // centre (75, 75): cell (1, 1), predictor 1 by distance
  }};
  const auto t = models::yolo_targets(out, boxes, {{1, 0, 1, 0}}, c, 100, 100);
  BOOST_REQUIRE(t.size() == 3u);
  BOOST_TEST((t[0].row == 0 && t[0].col == 0 && t[0].object == 2 && t[0].cls == 1));
  BOOST_TEST((t[1].row == 0 && t[1].col == 1 && t[1].object == 0));
  BOOST_TEST(t[1].x == 0.9f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST((t[2].row == 1 && t[2].col == 1 && t[2].predictor == 1 && t[2].iou == 0.0f));
  BOOST_TEST(t[0].predictor == 0);  // all-zero predictions: predictor 0 is closest (a tie)

  // A box whose centre is exactly on the right and bottom border.
  const auto edge = models::yolo_targets(out, {{{80, 80, 120, 120}}}, {{0}}, c, 100, 100);
  BOOST_TEST((edge[0].row == 1 && edge[0].col == 1 && edge[0].x == 1.0f));

  // Two predictors with the same IoU: the lower index.
  Tensor same({1, 2, 2, c.depth()});
  for (int b = 0; b < 2; ++b) {
    box_value(same, c, 0, 0, 0, b, 0) = box_value(same, c, 0, 0, 0, b, 1) = 0.5f;
    box_value(same, c, 0, 0, 0, b, 2) = box_value(same, c, 0, 0, 0, b, 3) = 0.5f;
  }
  const auto tie = models::yolo_targets(same, {{{10, 10, 40, 40}}}, {{0}}, c, 100, 100);
  BOOST_TEST((tie[0].predictor == 0 && tie[0].iou > 0.0f));
  // Predictor 1 better: it is responsible.
  box_value(same, c, 0, 0, 0, 1, 2) = box_value(same, c, 0, 0, 0, 1, 3) = std::sqrt(0.3f);
  const auto better = models::yolo_targets(same, {{{10, 10, 40, 40}}}, {{0}}, c, 100, 100);
  BOOST_TEST(better[0].predictor == 1);
  BOOST_TEST(better[0].iou == 1.0f, boost::test_tools::tolerance(1e-5f));
}

// Targets written into an output at their responsible predictor decode back to the
// ground truth (in any image size: the output is relative), and decode_yolo_output
// scores that box Pr(class) * confidence.
BOOST_AUTO_TEST_CASE(decode_round_trip) {
  models::YoloConfig c;  // S = 8, C = 10
  c.boxes = 2;           // the paper's B; targets go to predictor 0 here, written to 1
  const std::vector<std::vector<Box>> boxes = {{{3, 7, 40, 30}, {70, 64, 126, 120}, {50, 10, 66, 26}}};
  Tensor out({1, c.grid, c.grid, c.depth()});
  const auto t = models::yolo_targets(out, boxes, {{4, 9, 0}}, c, 128, 128);
  BOOST_REQUIRE(t.size() == 3u);
  for (const models::YoloTarget& g : t) {
    box_value(out, c, 0, g.row, g.col, 1, 0) = g.x;
    box_value(out, c, 0, g.row, g.col, 1, 1) = g.y;
    box_value(out, c, 0, g.row, g.col, 1, 2) = g.sqrt_w;
    box_value(out, c, 0, g.row, g.col, 1, 3) = g.sqrt_h;
    box_value(out, c, 0, g.row, g.col, 1, 4) = 0.9f;
    class_value(out, c, 0, g.row, g.col, g.cls) = 0.5f;
    for (int scale : {1, 3}) {
      const Box b = models::decode_yolo_box(out.data(), c, g.row, g.col, 1, 128 * scale, 128 * scale).box;
      const Box& want = boxes[0][g.object];
      for (auto [got, w] : {std::pair{b.x1, want.x1}, {b.y1, want.y1}, {b.x2, want.x2}, {b.y2, want.y2}})
        BOOST_TEST(std::fabs(got - w * scale) < 1e-3f * scale);
    }
  }
  models::YoloDetectOptions o;
  const std::vector<Detection> d = models::decode_yolo_output(out.data(), c, 128, 128, o);
  BOOST_REQUIRE(d.size() == 3u);
  for (const Detection& det : d) {
    BOOST_TEST(det.score == 0.45f, boost::test_tools::tolerance(1e-6f));
    bool found = false;
    for (size_t k = 0; k < 3; ++k)
      found |= det.cls == std::vector<int>{4, 9, 0}[k] && box_iou(det.box, boxes[0][k]) > 0.999f;
    BOOST_TEST(found);
  }
  o.threshold = 0.5f;  // 0.45 < 0.5: nothing
  BOOST_TEST(models::decode_yolo_output(out.data(), c, 128, 128, o).empty());
  // Two negative outputs do not make a positive score.
  box_value(out, c, 0, 3, 3, 0, 2) = box_value(out, c, 0, 3, 3, 0, 3) = 0.3f;
  box_value(out, c, 0, 3, 3, 0, 4) = -0.9f;
  class_value(out, c, 0, 3, 3, 2) = -0.9f;
  o.threshold = 0.05f;
  BOOST_TEST(models::decode_yolo_output(out.data(), c, 128, 128, o).size() == 3u);
}

// Both heads give [N, S, S, 5B + C]; a grid that is not a power of two is average-pooled;
// the config refuses a grid finer than the backbone's map.
BOOST_AUTO_TEST_CASE(heads_and_config) {
  for (const char* head : {"conv", "fc"})
    for (int S : {7, 8, 16}) {
      models::YoloConfig c;
      c.head = head;
      c.grid = S;
      c.boxes = 3;
      c.width = 8;
      c.hidden = 16;
      Rng rng(1);
      models::Yolo net(c, rng);
      const Var out = net(Var(Tensor({2, 3, 128, 128}, 0.1f)));
      BOOST_TEST((out.shape() == Shape{2, S, S, 5 * 3 + 10}), head << " S=" << S);
      BOOST_TEST(models::YoloConfig::from_json(c.to_json()).to_json() == c.to_json());
    }
  models::YoloConfig c;
  BOOST_TEST(c.neck_poolings() == 2);
  c.grid = 16;
  BOOST_TEST(c.neck_poolings() == 1);
  c.grid = 33;
  BOOST_CHECK_THROW(models::YoloConfig::from_json(c.to_json()), std::invalid_argument);
  Rng rng(1);
  models::Yolo net(models::YoloConfig{}, rng);
  BOOST_TEST(net.named_parameters().front().first == "backbone.0.weight");
}

// A batch of the tiny 64 x 64 scenes at the 128 x 128 input: without jitter the boxes are
// the scene's doubled (or mirrored); with jitter they move with the picture, stay inside
// it, and the same seed gives the same batch.
BOOST_AUTO_TEST_CASE(batches_resized_and_jittered) {
  const DetectionDataset ds = load_detection_dataset(tiny_data() + "/train", 4);
  const models::YoloConfig c;
  Rng rng(5);
  const models::YoloBatch plain = models::make_yolo_batch(ds, {0, 1, 2, 3}, c, false, 0.0f, rng);
  BOOST_TEST((plain.images.shape() == Shape{4, 3, 128, 128}));
  for (size_t n = 0; n < 4; ++n) {
    BOOST_REQUIRE(plain.boxes[n].size() == ds.items[n].boxes.size());
    for (size_t k = 0; k < plain.boxes[n].size(); ++k) {
      BOOST_TEST(plain.boxes[n][k].x1 == 2 * ds.items[n].boxes[k].x1);
      BOOST_TEST(plain.boxes[n][k].y2 == 2 * ds.items[n].boxes[k].y2);
    }
  }
  Rng r1(6), r2(6);
  const models::YoloBatch a = models::make_yolo_batch(ds, {0, 1, 2, 3}, c, true, 0.2f, r1);
  const models::YoloBatch b = models::make_yolo_batch(ds, {0, 1, 2, 3}, c, true, 0.2f, r2);
  BOOST_TEST((std::equal(a.images.begin(), a.images.end(), b.images.begin())));
  bool moved = false;
  for (size_t n = 0; n < 4; ++n) {
    BOOST_TEST(a.boxes[n].size() == a.labels[n].size());
    for (size_t k = 0; k < a.boxes[n].size(); ++k) {
      const Box& q = a.boxes[n][k];
      BOOST_TEST((q.x1 >= 0 && q.y1 >= 0 && q.x2 <= 128 && q.y2 <= 128 && q.x1 < q.x2 && q.y1 < q.y2));
      moved |= k < plain.boxes[n].size() && std::fabs(q.x1 - plain.boxes[n][k].x1) > 0.5f;
    }
  }
  BOOST_TEST(moved);
}

BOOST_AUTO_TEST_CASE(tiny_training_then_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("yolo_train");
  const std::string model = dir + "/m.safetensors";
  const json tj = detlab_test::train_on_1_and_2_threads(
      yolo, "train --scratch --quiet --epochs 4 --batch 4 --lr 0.002 --val-images 6 --data " + data, dir);
  BOOST_TEST(tj["final_loss"].get<double>() < 0.8 * tj["first_loss"].get<double>(),
             "loss " << tj["first_loss"] << " -> " << tj["final_loss"]);
  const auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(models::YoloConfig::from_json(meta.at("config")).classes() == 10);
  BOOST_TEST(read_file_text(dir + "/m.csv").find("train_noobj") != std::string::npos);

  const json ej = detlab_test::json_output(
      yolo("eval --json --threads 1 --data " + data + " --model " + model, dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  BOOST_TEST(ej["grid"].get<int>() == 8);
  detlab_test::check_ap_in_range(ej);
  BOOST_TEST(ej["seconds_per_image"].get<double>() > 0.0);

  const json entry =
      detlab_test::predict_tiny_scene(yolo, data, "--threshold 0 --show-grid --model " + model, dir);
  BOOST_TEST(entry["proposals"].get<int>() == 0);  // one-shot: no proposal stage
  const Image grid = load_image(dir + "/pred/000001.grid.png");
  BOOST_TEST(grid.width == 2 * 6 * 64 + 8);  // two 6x panels side by side
  BOOST_TEST(fs::exists(dir + "/pred/000001.yolo.json"));

  const json bj = detlab_test::bench_tiny_scenes(
      yolo, data, "--model " + model, {"backbone", "head", "decode_nms", "without_proposals"}, dir);
  const json& s = bj["seconds_per_image"];
  BOOST_TEST(s["proposals"].get<double>() == 0.0);
  BOOST_TEST(std::fabs(s["total"].get<double>() - s["without_proposals"].get<double>()) < 1e-12);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("yolo_bad");
  detlab_test::check_region_detector_bad_inputs(yolo, data, dir, "not a yolo model");
  models::YoloConfig cfg;
  Rng rng(1);
  models::Yolo net(cfg, rng);
  const std::vector<std::string> names(10, "x");
  nn::save_checkpoint(dir + "/y.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(names).dump()}});
  detlab_test::check_broken_image(yolo, "predict --model " + dir + "/y.safetensors", dir);
  // A config asking for a grid finer than the feature map.
  json bad = json::parse(cfg.to_json());
  bad["grid"] = 40;
  nn::save_checkpoint(dir + "/grid.safetensors", net,
                      {{"config", bad.dump()}, {"classes", json(names).dump()}});
  detlab_test::check_exit_1_naming(yolo("eval --model " + dir + "/grid.safetensors --data " + data, dir),
                                   "grid.safetensors", "grid");
  // Weights of another shape than the config says (B = 3 in the config, 2 in the file).
  json other = json::parse(cfg.to_json());
  other["boxes"] = 3;
  nn::save_checkpoint(dir + "/shape.safetensors", net,
                      {{"config", other.dump()}, {"classes", json(names).dump()}});
  detlab_test::check_exit_1_naming(yolo("eval --model " + dir + "/shape.safetensors --data " + data, dir),
                                   "shape.safetensors");
  detlab_test::check_usage_errors(
      yolo, dir,
      {"train --grid 0", "train --grid 33", "train --boxes 0", "train --jitter 0.9", "train --head mlp", "train --lambda-coord -1",
       "eval --nms 2", "predict", "bench --limit 0", "predict --threshold 1.5 x.png"});
}
