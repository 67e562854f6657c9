// Lesson 07's FCN: max unpooling (a hand case, the kernel against its plain reference,
// the gradient against finite differences), nearest up-sampling, a transposed
// convolution's output size and values on a hand case and its bilinear start, the
// per-pixel loss on a hand case, the network's shapes and config, and a tiny end-to-end
// run of bin/fcn (1 and 2 threads give the same model bytes, eval, predict, bench, bad
// inputs).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "image/image.h"
#include "models/fcn.h"
#include "nn/checkpoint.h"
#include "program_checks.h"
#include "tensor/pool.h"
#include "tensor/upsample.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dl;

namespace {

const detlab_test::Program fcn{"fcn"};

const std::string& tiny_data() { return detlab_test::tiny_scenes_once("fcn_data", 20, 6); }

// The hand case: a 4 x 4 plane, pooled 2 x 2. Its window maxima are 5 (flat index 1),
// 8 (6), 9 (12) and 7 (15).
const Tensor kPlane({1, 1, 4, 4}, {1, 5, 2, 0,
                                   3, 4, 8, 1,
                                   0, 2, 1, 1,
                                   9, 6, 3, 7});

}  // namespace

BOOST_AUTO_TEST_CASE(max_unpool_hand_case) {
  const ag::MaxPoolWithSwitches p = ag::max_pool2d_with_switches(Var(kPlane), {});
  BOOST_TEST((*p.switches == std::vector<int64_t>{1, 6, 12, 15}));
  // Other values put back at the same places: the decoder's, not the encoder's.
  const Tensor v({1, 1, 2, 2}, {10, 20, 30, 40});
  const Tensor up = max_unpool2d_forward(v, *p.switches, 4, 4);
  const std::vector<float> want = {0, 10, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 30, 0, 0, 40};
  BOOST_TEST(std::vector<float>(up.begin(), up.end()) == want, boost::test_tools::per_element());
  BOOST_TEST(max_abs_diff(up, max_unpool2d_reference(v, *p.switches, 4, 4)) == 0.0f);
  // Backward: each input's gradient is the output gradient at its switch.
  Tensor g({1, 1, 4, 4});
  for (int64_t i = 0; i < 16; ++i) g[i] = float(i);
  const Tensor dx = max_unpool2d_backward(g, *p.switches, v.shape());
  BOOST_TEST((std::vector<float>(dx.begin(), dx.end()) == std::vector<float>{1, 6, 12, 15}));
  // Through the tape: unpool(pool(x)) keeps the maxima where they were.
  Var x(kPlane, true);
  const ag::MaxPoolWithSwitches q = ag::max_pool2d_with_switches(x, {});
  const Var round = ag::max_unpool2d(q.y, q.switches, 4, 4);
  const std::vector<float> kept = {0, 5, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 9, 0, 0, 7};
  BOOST_TEST(std::vector<float>(round.value().begin(), round.value().end()) == kept,
             boost::test_tools::per_element());
  ag::sum_all(round).backward();
  // d/dx of the sum of the kept maxima: 1 at the four winners, 0 elsewhere.
  for (int64_t i = 0; i < 16; ++i) BOOST_TEST(x.grad()[i] == (kept[i] != 0 ? 1.0f : 0.0f));
}

BOOST_AUTO_TEST_CASE(max_unpool_matches_reference_and_gradcheck) {
  Rng rng(4);
  for (const auto& shape : {Shape{2, 3, 8, 6}, Shape{1, 2, 7, 9}, Shape{3, 16, 20, 20}}) {
    const Tensor x = uniform(shape, -1.0f, 1.0f, rng);
    const MaxPoolResult p = max_pool2d_forward(x, {});
    const Tensor v = uniform(p.y.shape(), -1.0f, 1.0f, rng);
    BOOST_TEST(max_abs_diff(max_unpool2d_forward(v, p.argmax, shape[2], shape[3]),
                            max_unpool2d_reference(v, p.argmax, shape[2], shape[3])) == 0.0f);
  }
  const Tensor x = uniform({2, 2, 6, 6}, -1.0f, 1.0f, rng);
  auto sw = std::make_shared<const std::vector<int64_t>>(max_pool2d_forward(x, {}).argmax);
  const GradcheckResult r = gradcheck(
      [sw](const std::vector<Var>& in) { return ag::max_unpool2d(in[0], sw, 6, 6); },
      {Var(uniform({2, 2, 3, 3}, -1.0f, 1.0f, rng), true)});
  BOOST_TEST(r.ok, r.detail);
  // An index outside the output plane, or too few of them, is refused.
  BOOST_CHECK_THROW(max_unpool2d_forward(Tensor({1, 1, 1, 1}), {4}, 2, 2), ShapeError);
  BOOST_CHECK_THROW(max_unpool2d_forward(Tensor({1, 1, 2, 1}), {0}, 2, 2), ShapeError);
}

BOOST_AUTO_TEST_CASE(nearest_upsampling) {
  const Var y = models::upsample_nearest2x(Var(Tensor({1, 1, 2, 2}, {1, 2, 3, 4})));
  BOOST_TEST((y.shape() == Shape{1, 1, 4, 4}));
  const std::vector<float> want = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  BOOST_TEST(std::vector<float>(y.value().begin(), y.value().end()) == want,
             boost::test_tools::per_element());
  Rng rng(5);
  const GradcheckResult r = gradcheck(
      [](const std::vector<Var>& in) { return models::upsample_nearest2x(in[0]); },
      {Var(uniform({2, 3, 3, 2}, -1.0f, 1.0f, rng), true)});
  BOOST_TEST(r.ok, r.detail);
}

// A transposed convolution stamps the kernel, scaled by each input, at stride s into an
// output of (H - 1) s - 2 pad + k. x = [[1, 2], [3, 4]], a 3 x 3 kernel of ones, stride 2,
// pad 1: the full 5 x 5 stamp cropped by one on each side is 3 x 3 --
//   x00            x00 + x01             x01              1  3  2
//   x00 + x10      x00 + x01 + x10 + x11 x01 + x11   =    4 10  6
//   x10            x10 + x11             x11              3  7  4
BOOST_AUTO_TEST_CASE(transposed_convolution_hand_case) {
  ag::Conv2dOptions o;
  o.stride_h = o.stride_w = 2;
  o.pad_h = o.pad_w = 1;
  const Var y = ag::conv_transpose2d(Var(Tensor({1, 1, 2, 2}, {1, 2, 3, 4})),
                                     Var(Tensor({1, 1, 3, 3}, 1.0f)), Var(), o);
  BOOST_TEST((y.shape() == Shape{1, 1, 3, 3}));
  const std::vector<float> want = {1, 3, 2, 4, 10, 6, 3, 7, 4};
  BOOST_TEST(std::vector<float>(y.value().begin(), y.value().end()) == want,
             boost::test_tools::per_element());
  // The FCN start: a per-channel 4 x 4 kernel, stride 2, pad 1 doubles the map and equals
  // bilinear up-sampling (align_corners = false) away from the border, where bilinear
  // clamps and the convolution sees zeros.
  Rng rng(6);
  const Tensor x = uniform({1, 3, 5, 6}, -1.0f, 1.0f, rng);
  o.pad_h = o.pad_w = 1;
  o.groups = 3;
  const Tensor t = ag::conv_transpose2d(Var(x), Var(models::bilinear_transpose_kernel(3)), Var(), o).value();
  const Tensor b = upsample_bilinear2d_forward(x, 10, 12, false);
  BOOST_TEST((t.shape() == Shape{1, 3, 10, 12}));
  float worst = 0;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 1; i < 9; ++i)
      for (int64_t j = 1; j < 11; ++j) worst = std::max(worst, std::fabs(t.at({0, c, i, j}) - b.at({0, c, i, j})));
  BOOST_TEST(worst < 1e-6f);
}

// Three pixels of K = 3 classes: logits (0, 0, 0) labelled 1: ln 3 = 1.0986123;
// (2, 0, 0) labelled 0: ln(1 + 2 e^-2) = 0.2395448; the third is "ignore" (255) and its
// logits would cost a lot. Mean 0.6690785; with background weight 1/2 the weighted mean
// (ln 3 + 0.5 * 0.2395448) / 1.5 = 0.8122564.
BOOST_AUTO_TEST_CASE(per_pixel_loss_hand_case) {
  // scores [1, 3, 1, 3]: channel-major, pixel by pixel within each channel
  const Tensor scores({1, 3, 1, 3}, {0, 2, -9, 0, 0, 9, 0, 0, -9});
  const Tensor labels({1, 1, 3}, {1, 0, float(kIgnoreLabel)});
  const auto tol = boost::test_tools::tolerance(1e-5f);
  BOOST_TEST(models::fcn_loss(Var(scores), labels).item() == 0.6690785f, tol);
  BOOST_TEST(models::fcn_loss(Var(scores), labels, 0.5f).item() == 0.8122564f, tol);
}

BOOST_AUTO_TEST_CASE(network_shapes_and_config) {
  for (const char* u : {"nearest", "bilinear", "max-unpool", "transpose"})
    for (bool skips : {true, false}) {
      models::FcnConfig c;
      c.upsample = u;
      c.skips = skips;
      c.c3 = 8, c.c4 = 12;
      Rng rng(1);
      models::Fcn net(c, rng);
      Rng data(2);
      const Var y = net(Var(uniform({2, 3, 32, 48}, -1.0f, 1.0f, data)));
      BOOST_TEST((y.shape() == Shape{2, 11, 32, 48}), u);
      const models::FcnConfig back = models::FcnConfig::from_json(c.to_json());
      BOOST_TEST(back.upsample == u);
      BOOST_TEST(back.skips == skips);
      // The whole network trains: every parameter gets a gradient (the skips' 1 x 1
      // convs start at zero but their weights still do).
      ag::sum_all(y).backward();
      for (const auto& [name, p] : net.named_parameters()) BOOST_TEST(p.grad().numel() == p.value().numel(), name);
    }
  json bad = json::parse(models::FcnConfig{}.to_json());
  bad["upsample"] = "cubic";
  BOOST_CHECK_THROW(models::FcnConfig::from_json(bad.dump()), std::invalid_argument);
  bad = json::parse(models::FcnConfig{}.to_json());
  bad["input_size"] = 120;  // not a multiple of 16
  BOOST_CHECK_THROW(models::FcnConfig::from_json(bad.dump()), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(labels_resized_by_nearest_neighbour) {
  Image l(2, 2, 1);
  l.pixels = {1, 2, 3, 4};
  const Image big = models::resize_labels(l, 4, 4);
  BOOST_TEST((big.pixels == std::vector<uint8_t>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  BOOST_TEST((models::resize_labels(big, 2, 2).pixels == l.pixels));
}

BOOST_AUTO_TEST_CASE(tiny_training_then_eval_predict_bench) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("fcn_train");
  const std::string model = dir + "/m.safetensors";
  const json tj = detlab_test::train_on_1_and_2_threads(
      fcn, "train --scratch --quiet --epochs 3 --batch 4 --c3 16 --c4 16 --upsample max-unpool --val-images 6 --data " + data, dir);
  BOOST_TEST(tj["final_loss"].get<double>() < 0.8 * tj["first_loss"].get<double>(),
             "loss " << tj["first_loss"] << " -> " << tj["final_loss"]);
  const auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(models::FcnConfig::from_json(meta.at("config")).upsample == "max-unpool");
  BOOST_TEST(read_file_text(dir + "/m.csv").find("val_mean_iou") != std::string::npos);

  const json ej = detlab_test::json_output(fcn("eval --json --threads 1 --data " + data + " --model " + model, dir));
  BOOST_TEST(ej["images"].get<int>() == 6);
  for (const char* k : {"pixel_accuracy", "mean_iou", "mean_class_accuracy"})
    BOOST_TEST((ej[k].get<double>() >= 0 && ej[k].get<double>() <= 1), k);
  // The confusion matrix counts every ground-truth pixel of the six 64 x 64 scenes once.
  uint64_t pixels = 0, diagonal = 0;
  for (size_t i = 0; i < ej["confusion"].size(); ++i)
    for (size_t j = 0; j < ej["confusion"][i].size(); ++j) {
      pixels += ej["confusion"][i][j].get<uint64_t>();
      if (i == j) diagonal += ej["confusion"][i][j].get<uint64_t>();
    }
  BOOST_TEST(pixels == 6u * 64 * 64);
  BOOST_TEST(double(diagonal) / double(pixels) == ej["pixel_accuracy"].get<double>(), boost::test_tools::tolerance(1e-9));
  BOOST_TEST(ej["confusion"].size() == 11u);

  // predict: a scene shows its ground truth beside the prediction (two 6x panels); a
  // copy of it outside the data set cannot, and shows one panel.
  const json pj = detlab_test::json_output(fcn("predict --json --threads 1 --model " + model + " --out " + dir +
                                                   "/pred " + data + "/test/images/000001.png",
                                               dir))[0];
  BOOST_TEST(pj["ground_truth_shown"].get<bool>());
  int64_t counted = 0;
  for (const auto& [name, n] : pj["pixels_per_class"].items()) counted += n.get<int64_t>();
  BOOST_TEST(counted == 64 * 64);
  BOOST_TEST(load_image(dir + "/pred/000001.fcn.png").width == 2 * 6 * 64 + 8);
  BOOST_TEST(fs::exists(dir + "/pred/000001.fcn.json"));
  fs::copy_file(data + "/test/images/000002.png", dir + "/alone.png");
  const json aj = detlab_test::json_output(
      fcn("predict --json --threads 1 --model " + model + " --out " + dir + "/pred " + dir + "/alone.png", dir))[0];
  BOOST_TEST(!aj["ground_truth_shown"].get<bool>());
  BOOST_TEST(load_image(dir + "/pred/alone.fcn.png").width == 6 * 64);

  const json bj = detlab_test::json_output(fcn("bench --json --threads 1 --model " + model, dir));
  BOOST_TEST(bj.size() == 2u);
  for (const auto& row : bj) BOOST_TEST(row["training_images_per_s"].get<double>() > 0);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("fcn_bad");
  detlab_test::check_exit_1_naming(fcn("eval --model " + dir + "/none.safetensors --data " + data, dir),
                                   "none.safetensors");
  detlab_test::save_classify_checkpoint(dir + "/classify.safetensors");
  detlab_test::check_exit_1_naming(fcn("predict --model " + dir + "/classify.safetensors " + data +
                                           "/test/images/000001.png", dir),
                                   "classify.safetensors", "not an fcn model");
  detlab_test::check_exit_1_naming(fcn("train --scratch --data " + dir + "/nowhere --model " + dir + "/t.safetensors", dir),
                                   "nowhere");
  models::FcnConfig cfg;
  Rng rng(1);
  models::Fcn net(cfg, rng);
  nn::save_checkpoint(dir + "/f.safetensors", net,
                      {{"config", cfg.to_json()}, {"classes", json(std::vector<std::string>(10, "x")).dump()}});
  detlab_test::check_broken_image(fcn, "predict --model " + dir + "/f.safetensors", dir);
  // A mask that is missing, and one whose pixel is no category.
  fs::copy(data + "/test", dir + "/masks_bad", fs::copy_options::recursive);
  Image mask = load_image(dir + "/masks_bad/masks/000002.png", 1);
  mask.pixels[0] = 77;
  save_image(dir + "/masks_bad/masks/000002.png", mask);
  detlab_test::check_exit_1_naming(fcn("eval --model " + dir + "/f.safetensors --data " + dir + "/masks_bad_root", dir),
                                   "masks_bad_root");
  fs::create_directories(dir + "/root");
  fs::rename(dir + "/masks_bad", dir + "/root/test");
  detlab_test::check_exit_1_naming(fcn("eval --model " + dir + "/f.safetensors --data " + dir + "/root", dir),
                                   "000002.png", "mask value 77");
  fs::remove(dir + "/root/test/masks/000003.png");
  mask.pixels[0] = 0;
  save_image(dir + "/root/test/masks/000002.png", mask);
  detlab_test::check_exit_1_naming(fcn("eval --model " + dir + "/f.safetensors --data " + dir + "/root", dir),
                                   "000003.png");
  detlab_test::check_usage_errors(
      fcn, dir,
      {"train --upsample cubic", "train --background-weight 2", "train --c3 0", "eval --limit 0",
       "predict", "bench --upsample cubic"});
}
