// bin/classify_localize end to end on a tiny generated set: the multitask loss falls,
// eval and predict give outputs of the right shape and range, and bad inputs give
// exit 1 with a one-line message naming the file. Plus the transfer-learning rule:
// the grey backbone spread over RGB responds to a grey image exactly as before.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "autograd/ops.h"
#include "data/detection_dataset.h"
#include "data/batching.h"
#include "data/online_scenes.h"
#include "eval/localization_metrics.h"
#include "nn/checkpoint.h"
#include "models/localizer.h"
#include "models/classifier.h"
#include "run_program.h"
#include "util/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using detlab_test::Run;
using namespace dl;

namespace {

Run cl(const std::string& args, const std::string& dir) {
  return detlab_test::run_program("classify_localize", args, dir);
}

// A tiny single-object train/test pair, made once per test process.
const std::string& tiny_data() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = detlab_test::temp_dir("classify_localize_data");
  for (const char* split : {"train", "test"}) {
    Run r = detlab_test::run_program(
        "datagen",
        std::string("scenes --single --quiet --count ") + (split[1] == 'r' ? "96" : "32") +
            " --min-scale 40 --max-scale 96 --split " + split + " --seed 5 --out " + dir + "/" +
            split,
        dir);
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.err);
  }
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(classify_localize_program)

BOOST_AUTO_TEST_CASE(training_lowers_the_loss_and_outputs_are_well_formed) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("classify_localize_train");
  const std::string model = dir + "/m.safetensors";
  Run t = cl("train --scratch --quiet --json --epochs 8 --batch 16 --threads 2 "
             "--train-scenes files --data " + data + " --model " + model,
             dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  // The per-epoch log: the training loss of the last epoch is below the first's.
  const std::vector<double> losses = detlab_test::csv_column(dir + "/m.csv", 2);
  BOOST_REQUIRE_EQUAL(losses.size(), 8u);
  BOOST_TEST(losses.back() < 0.8 * losses.front(), "loss " << losses.front() << " -> "
                                                            << losses.back());

  // The configuration is in the checkpoint; eval reports fractions in [0, 1].
  auto meta = nn::read_checkpoint_metadata(model);
  BOOST_TEST(models::LocalizerConfig::from_json(meta.at("config")).num_classes == 10);
  Run e = cl("eval --json --data " + data + " --model " + model, dir);
  BOOST_REQUIRE_MESSAGE(e.status == 0, e.err);
  json ej = json::parse(e.out);
  BOOST_TEST(ej["images"].get<int>() == 32);
  for (const char* k : {"accuracy", "mean_iou", "localization_accuracy"}) {
    BOOST_TEST(ej[k].get<double>() >= 0.0);
    BOOST_TEST(ej[k].get<double>() <= 1.0);
  }
  BOOST_TEST(ej["localization_accuracy"].get<double>() <= ej["accuracy"].get<double>());

  // predict: a box inside the image, five probabilities in decreasing order.
  const std::string img = data + "/test/images/" + fs::path(
      json::parse(read_file_text(data + "/test/annotations.json"))["images"][0]["file_name"]
          .get<std::string>()).filename().string();
  Run p = cl("predict --json --out " + dir + " --model " + model + " " + img + " " +
                 DETLAB_SOURCE_DIR + "/data/samples/skimage/chelsea.png",
             dir);
  BOOST_REQUIRE_MESSAGE(p.status == 0, p.err);
  json pj = json::parse(p.out);
  BOOST_REQUIRE_EQUAL(pj.size(), 2u);
  const int widths[2] = {128, 451};
  for (int k = 0; k < 2; ++k) {
    auto box = pj[k]["box_xyxy"].get<std::vector<double>>();
    BOOST_TEST(box[0] >= 0.0);
    BOOST_TEST(box[0] <= box[2]);
    BOOST_TEST(box[2] <= widths[k]);
    auto top = pj[k]["top5"];
    BOOST_REQUIRE_EQUAL(top.size(), 5u);
    for (int i = 0; i + 1 < 5; ++i)
      BOOST_TEST(top[i]["probability"].get<double>() >= top[i + 1]["probability"].get<double>());
    BOOST_TEST(fs::exists(pj[k]["annotated"].get<std::string>()));
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_1_naming_the_file) {
  const std::string data = tiny_data();
  const std::string dir = detlab_test::temp_dir("classify_localize_bad");
  Run m = cl("eval --data " + data + " --model " + dir + "/missing.safetensors", dir);
  BOOST_TEST(m.status == 1);
  BOOST_TEST(m.err.find("missing.safetensors") != std::string::npos, m.err);
  BOOST_TEST(detlab_test::count_lines(m.err) == 1);

  // A model of another program: a classify checkpoint.
  Rng rng(1);
  models::SmallCnn other(models::SmallCnnConfig{}, rng);
  nn::save_checkpoint(dir + "/classify.safetensors", other,
                      {{"config", models::SmallCnnConfig{}.to_json()}});
  Run o = cl("eval --data " + data + " --model " + dir + "/classify.safetensors", dir);
  BOOST_TEST(o.status == 1);
  BOOST_TEST(o.err.find("not a classify_localize model") != std::string::npos, o.err);

  // An "image" that is not one.
  write_file_atomic(dir + "/notes.png", std::string("this is text, not a PNG"));
  // (a narrower backbone than lesson 00's, which --scratch allows and the config records)
  Run t = cl("train --scratch --quiet --epochs 1 --limit 32 --backbone-channels 8,12 --data " +
                 data + " --model " + dir + "/m.safetensors",
             dir);
  BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
  const auto cfg = models::LocalizerConfig::from_json(
      nn::read_checkpoint_metadata(dir + "/m.safetensors").at("config"));
  BOOST_TEST(cfg.c1 == 8);
  BOOST_TEST(cfg.c2 == 12);
  Run i = cl("predict --model " + dir + "/m.safetensors " + dir + "/notes.png", dir);
  BOOST_TEST(i.status == 1);
  BOOST_TEST(i.err.find("notes.png") != std::string::npos, i.err);
  BOOST_TEST(detlab_test::count_lines(i.err) == 1);

  // A missing dataset directory, and bad flags (usage errors exit 2).
  Run d = cl("train --quiet --data " + dir + "/nowhere --model " + dir + "/x.safetensors", dir);
  BOOST_TEST(d.status == 1);
  BOOST_TEST(d.err.find("nowhere") != std::string::npos, d.err);
  BOOST_TEST(cl("train --lambda minus", dir).status == 2);
  BOOST_TEST(cl("train --backbone-channels 8", dir).status == 2);

  // Backbone widths that do not fit the pretrained classify model: exit 1, naming it.
  Run w = cl("train --quiet --epochs 1 --limit 32 --backbone-channels 8,12 --pretrained " + dir +
                 "/classify.safetensors --data " + data + " --model " + dir + "/w.safetensors",
             dir);
  BOOST_TEST(w.status == 1);
  BOOST_TEST(w.err.find("classify.safetensors") != std::string::npos, w.err);
  BOOST_TEST(detlab_test::count_lines(w.err) == 1);
  BOOST_TEST(!fs::exists(dir + "/w.safetensors"));
  BOOST_TEST(cl("predict", dir).status == 2);
  fs::remove_all(dir);
}

// Online training scenes: scene k is exactly what `datagen scenes` writes as its k-th
// image (same pixels, box and class), and a run on them is reproducible bit for bit
// whatever the thread count.
BOOST_AUTO_TEST_CASE(online_scenes_match_datagen_and_train_deterministically) {
  const std::string data = tiny_data();
  SceneOptions o;
  o.single = true;
  o.min_scale = 40;
  o.max_scale = 96;
  o.split = "train";
  o.seed = 5;
  const OnlineScenes gen =
      make_online_scenes(o, kFashionMnistDir, std::string(DETLAB_SOURCE_DIR) + "/" + kTextureDir);
  const DetectionDataset files = load_detection_dataset(data + "/train", 4);
  for (int k = 0; k < 4; ++k) {
    const DetectionItem item = online_scene(gen, k);
    BOOST_TEST(item.image.pixels == files.items[k].image.pixels);
    BOOST_REQUIRE_EQUAL(item.boxes.size(), 1u);
    BOOST_TEST(item.labels == files.items[k].labels);
    BOOST_TEST(box_iou(item.boxes[0], files.items[k].boxes[0]) == 1.0f);
  }

  const std::string dir = detlab_test::temp_dir("classify_localize_online");
  // 1 thread makes each next batch ahead on a second core (when the machine has one),
  // 2 threads and --no-prefetch make each in its turn: the same model.
  std::string bytes[3];
  for (int run = 1; run <= 3; ++run) {
    const int threads = run == 2 ? 2 : 1;
    const std::string model = dir + "/m" + std::to_string(run) + ".safetensors";
    Run t = cl("train --scratch --quiet --epochs 2 --limit 48 --batch 16 --threads " +
                   std::to_string(threads) + (run == 3 ? " --no-prefetch" : "") + " --data " +
                   data + " --model " + model,
               dir);
    BOOST_REQUIRE_MESSAGE(t.status == 0, t.err);
    auto args = json::parse(nn::read_checkpoint_metadata(model).at("train_args"));
    BOOST_TEST(args["train_scenes"].get<std::string>() == "online");
    BOOST_TEST(args["train_images"].get<int>() == 48);
    bytes[run - 1] = read_file_text(model);
  }
  BOOST_TEST((bytes[0] == bytes[1]), "1 and 2 threads give different models");
  BOOST_TEST((bytes[0] == bytes[2]), "--no-prefetch gives a different model");
  fs::remove_all(dir);
}

// bench: one row per batch size (1 and 32), each with positive throughputs, and a
// training step (forward + backward + update) slower than inference alone.
BOOST_AUTO_TEST_CASE(bench_reports_inference_and_training_throughput) {
  const std::string dir = detlab_test::temp_dir("classify_localize_bench");
  Run b = cl("bench --json --threads 1", dir);
  BOOST_REQUIRE_MESSAGE(b.status == 0, b.err);
  json rows = json::parse(b.out);
  BOOST_REQUIRE_EQUAL(rows.size(), 2u);
  BOOST_TEST(rows[0]["batch"].get<int>() == 1);
  BOOST_TEST(rows[1]["batch"].get<int>() == 32);
  for (const auto& r : rows) {
    const double infer = r["inference_images_per_s"], train = r["training_images_per_s"];
    BOOST_TEST(train > 0.0);
    BOOST_TEST(infer > train, "inference " << infer << " images/s, training " << train);
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(grey_backbone_spread_over_rgb_keeps_its_response) {
  const std::string dir = detlab_test::temp_dir("classify_localize_transfer");
  Rng rng(7);
  models::SmallCnnConfig gcfg;
  models::SmallCnn grey(gcfg, rng);
  // Non-trivial BN statistics, so the buffers' transfer is checked too.
  for (auto& [name, buf] : grey.named_buffers())
    for (int64_t i = 0; i < buf->numel(); ++i)
      (*buf)[i] = name.find("var") != std::string::npos ? 0.5f + 0.1f * i : 0.01f * i;
  nn::save_checkpoint(dir + "/grey.safetensors", grey, {{"config", gcfg.to_json()}});

  models::LocalizerConfig lcfg;
  lcfg.input_size = 32;
  models::Localizer rgb(lcfg, rng);
  BOOST_TEST(models::load_grey_backbone(dir + "/grey.safetensors", rgb) == 10);
  grey.eval();
  rgb.eval();
  Tensor g = uniform({2, 1, 32, 32}, -1.0f, 1.0f, rng);
  Tensor c({2, 3, 32, 32});
  for (int64_t n = 0; n < 2; ++n)
    for (int ch = 0; ch < 3; ++ch)
      std::copy(g.data() + n * 1024, g.data() + (n + 1) * 1024, c.data() + (n * 3 + ch) * 1024);
  NoGradGuard no_grad;
  Tensor a = grey.features(Var(g)).value(), b = (*rgb.backbone)(Var(c)).value();
  BOOST_REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  BOOST_TEST(worst < 1e-5);

  // A file that is not a classify model is refused with its name.
  BOOST_CHECK_EXCEPTION(models::load_grey_backbone(dir + "/nothing.safetensors", rgb), FileError,
                        [](const FileError& e) {
                          return std::string(e.what()).find("nothing.safetensors") !=
                                 std::string::npos;
                        });
  fs::remove_all(dir);
}

// The model's input: a 128 x 128 scene at S = 32 is the mean of each 4 x 4 block
// (normalised as lesson 00's inputs); a flip mirrors the image and its box together.
BOOST_AUTO_TEST_CASE(localizer_batch_averages_blocks_and_flips_image_and_box_together) {
  DetectionItem item;
  item.image = Image(128, 128, 3, 0);
  for (int y = 0; y < 128; ++y)
    for (int x = 0; x < 128; ++x)
      for (int c = 0; c < 3; ++c) item.image.at(x, y, c) = static_cast<uint8_t>((x % 4) * 20 + c);
  item.boxes = {Box{8, 16, 40, 80}, Box{0, 0, 4, 4}};
  item.labels = {7, 2};
  BOOST_TEST(models::main_object(item) == 0);
  const Tensor x = models::localizer_input(item.image, 32);
  BOOST_REQUIRE(x.shape() == (std::vector<int64_t>{3, 32, 32}));
  for (int c = 0; c < 3; ++c)  // block mean 30 + c, then (v / 255 - mean) / std
    BOOST_TEST(x[c * 1024 + 5 * 32 + 9] ==
                   ((30.0f + c) / 255.0f - kFashionMean) / kFashionStd,
               boost::test_tools::tolerance(1e-5f));

  const std::vector<int64_t> order = {0, 1, 2, 3, 4, 5, 6, 7};
  const models::SceneSource scene = [&item](int64_t) { return item; };
  const models::LocalizerBatch plain =
      models::make_localizer_batch(scene, order, 0, 8, 32, nullptr);
  const Rng flip_rng(11);
  const models::LocalizerBatch b = models::make_localizer_batch(scene, order, 2, 8, 32, &flip_rng);
  BOOST_REQUIRE_EQUAL(b.images.size(0), 6);  // the rest of `order`
  const float t[4] = {24.0f / 128, 48.0f / 128, 32.0f / 128, 64.0f / 128};  // cx, cy, w, h
  int flipped = 0;
  for (int64_t i = 0; i < 6; ++i) {
    BOOST_TEST(b.labels[i] == 7.0f);
    const bool flip = std::fabs(b.boxes[4 * i] - (1 - t[0])) < 1e-6f;
    flipped += flip;
    BOOST_TEST(b.boxes[4 * i] == (flip ? 1 - t[0] : t[0]), boost::test_tools::tolerance(1e-6f));
    for (int j = 1; j < 4; ++j)
      BOOST_TEST(b.boxes[4 * i + j] == t[j], boost::test_tools::tolerance(1e-6f));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int xx = 0; xx < 32; ++xx)
          BOOST_REQUIRE(b.images[((i * 3 + c) * 32 + y) * 32 + xx] ==
                        plain.images[(c * 32 + y) * 32 + (flip ? 31 - xx : xx)]);
  }
  BOOST_TEST(flipped > 0);
  BOOST_TEST(flipped < 6);
}

BOOST_AUTO_TEST_CASE(localization_scores_by_class_and_size) {
  BOOST_TEST(size_bucket(31.9f) == 0);
  BOOST_TEST(size_bucket(32.0f) == 1);
  BOOST_TEST(size_bucket(80.0f) == 4);
  BOOST_TEST(size_bucket_name(0) == "< 32 px");
  BOOST_TEST(size_bucket_name(2) == "48-64 px");
  BOOST_TEST(size_bucket_name(4) == ">= 80 px");
  LocalizationEval ev(3);
  ev.add(1, true, 0.7f, 40);   // localized
  ev.add(1, true, 0.3f, 40);   // right class, box off
  ev.add(2, false, 0.9f, 100); // wrong class: not localized however good the box
  BOOST_TEST(ev.per_class[1].images == 2);
  BOOST_TEST(ev.per_class[1].localized == 1);
  BOOST_TEST(ev.per_size[1].images == 2);
  BOOST_TEST(ev.per_size[4].correct == 0);
  BOOST_TEST(ev.accuracy() == 2.0 / 3, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ev.loc_accuracy() == 1.0 / 3, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ev.mean_iou() == (0.7 + 0.3 + 0.9) / 3, boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_SUITE_END()
