// Lesson 07: semantic segmentation with a fully convolutional network (Long, Shelhamer
// & Darrell, CVPR 2015) -- a class for every pixel, no objects. The network down-samples
// to 1/16 of the image and up-samples back (nearest, bilinear, max unpooling or a learned
// transposed convolution: the lecture's four), with FCN's skip connections; the loss is
// a softmax cross-entropy per pixel over background + the 10 classes.
//   bin/fcn train [--upsample nearest|bilinear|max-unpool|transpose] [--no-skips]
//   bin/fcn eval       pixel accuracy, mean IoU, per-class IoU, confusion matrix
//   bin/fcn predict IMAGE...   the labels in colour over the image, beside the ground
//                      truth when the image has a masks/ file (PNG + JSON)
//   bin/fcn bench      images/s: a training step and inference, batch 1 and 8
#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/segmentation_dataset.h"
#include "lessons/common/bench.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"  // scenes_split_dir
#include "lessons/common/fit.h"
#include "lessons/common/model_file.h"
#include "lessons/common/photo.h"
#include "lessons/common/pretrained.h"
#include "lessons/common/report.h"
#include "lessons/common/segmentation_pictures.h"
#include "lessons/common/segmentation_report.h"
#include "lessons/common/stage_bench.h"  // bench_model_file
#include "models/fcn.h"
#include "nn/optimizer.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
using models::Fcn;
namespace fs = std::filesystem;

namespace {

const char* kProgram = "fcn";
const char* kDefaultModel = "data/models/fcn.safetensors";
const cli::TrainDefaults kTrainDefaults{6, 8, 3e-3f};

std::unique_ptr<Fcn> load(const std::string& path, std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<Fcn, models::FcnConfig>(path, kProgram, classes);
}

struct TrainOptions {
  std::string pretrained = cli::kPretrainedModel;
  bool scratch = false, flip = true;
  int64_t limit = 0;
  int val_images = 50;
  float background_weight = 1.0f;
  models::FcnConfig model;
};

// Every image's labels against its ground truth, in one confusion matrix.
struct Evaluated {
  ConfusionMatrix cm;
  double seconds = 0;
};
Evaluated evaluate(Fcn& net, const SegmentationDataset& ds) {
  Evaluated e{ConfusionMatrix(net.config.num_classes, kIgnoreLabel)};
  std::vector<int> gt, pred;
  for (const SegmentationItem& item : ds.items) {
    const auto t0 = Clock::now();
    const Image labels = net.predict(item.image);
    e.seconds += seconds_since(t0);
    gt.assign(item.labels.pixels.begin(), item.labels.pixels.end());
    pred.assign(labels.pixels.begin(), labels.pixels.end());
    e.cm.add(gt, pred);
  }
  return e;
}

// ---- train ----------------------------------------------------------------------------
int cmd_train(cli::CommonArgs a, TrainOptions t) {
  const cli::TrainStart start(a, kDefaultModel, kTrainDefaults);
  const std::string& model_path = start.model_path;

  // 1. data: images and their semantic masks (pixel = class, 0 background)
  SegmentationDataset train = load_segmentation_dataset(cli::scenes_split_dir(a, "train"), t.limit);
  SegmentationDataset val = load_segmentation_dataset(cli::scenes_split_dir(a, "test"), t.val_images);
  if (train.items.empty()) throw FileError(train.dir, "the training set has no images");
  if (val.class_names != train.class_names)
    throw FileError(val.dir, "its classes are not those of the training scenes");

  // 2. model: lesson 00's backbone as the first two encoder stages, the rest new
  Rng rng(a.seed);
  models::FcnConfig cfg = t.model;
  cfg.num_classes = static_cast<int>(train.class_names.size());
  Fcn model(cfg, rng);
  const std::string init = cli::start_from_pretrained(t.pretrained, t.scratch, model, a.quiet);

  // 3. per-pixel cross-entropy on each batch (FCN §3)
  cli::FitOptions fo;
  fo.epochs = a.epochs;
  EpochBatches batches(static_cast<int64_t>(train.items.size()), a.batch, a.seed);
  fo.steps_per_epoch = batches.steps_per_epoch();
  fo.quiet = a.quiet;
  fo.lr = a.lr;
  auto batch_loss = [&](int epoch, int64_t s, int64_t global) {
    Rng step_rng = Rng(a.seed).fork(1000000 + static_cast<uint64_t>(global));
    const models::FcnBatch b = models::make_fcn_batch(train, batches.step(epoch, s), cfg, t.flip, step_rng);
    const Var loss = models::fcn_loss(model(Var(b.images)), b.labels, t.background_weight);
    cli::StepLosses r;
    r.images = b.images.size(0);
    r.total = loss;
    r.parts = {{"cross_entropy", loss.item()}};
    return r;
  };
  double last_miou = 0;
  auto epoch_end = [&](cli::EpochLog& log) {
    model.eval();
    const SegmentationScores s = segmentation_scores(evaluate(model, val).cm);
    model.train();
    last_miou = s.mean_iou;
    log.metrics["val_mean_iou"] = s.mean_iou;
    log.metrics["val_pixel_accuracy"] = s.pixel_accuracy;
  };
  const auto t0 = Clock::now();
  fo.resume = {&model, model_path, a.resume};
  const auto logs = cli::fit(model.parameters(), fo, batch_loss, epoch_end);
  const double train_seconds = seconds_since(t0), total_seconds = seconds_since(start.time);

  // 4. save: the classes without "background" (the model file's "classes" convention)
  const std::vector<std::string> classes(train.class_names.begin() + 1, train.class_names.end());
  const json args = {{"epochs", a.epochs}, {"batch", a.batch}, {"lr", a.lr}, {"seed", a.seed},
                     {"flip", t.flip}, {"background_weight", t.background_weight}, {"init", init},
                     {"train_images", train.items.size()}};
  const std::string stem = cli::save_training_run(
      model_path, model,
      {{"config", cfg.to_json()}, {"classes", json(classes).dump()}, {"train_args", args.dump()},
       {"val_mean_iou", fmt::format("{:.4f}", last_miou)}},
      logs, std::string(kProgram) + " " + cfg.upsample + " (" + init + ")",
      json({{"train_seconds", total_seconds}, {"training_loop_seconds", train_seconds}}).dump(2) + "\n");
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path}, {"val_mean_iou", last_miou},
                             {"val_images", val.items.size()}, {"train_seconds", train_seconds},
                             {"total_seconds", total_seconds}, {"epochs", a.epochs},
                             {"first_loss", logs.empty() ? 0.0 : logs.front().train_loss},
                             {"final_loss", logs.empty() ? 0.0 : logs.back().train_loss},
                             {"upsample", cfg.upsample}, {"skips", cfg.skips}, {"init", init}})
                           .dump());
  } else {
    fmt::print("val mean IoU {:.3f} on {} test scenes after {} epochs ({}{}); training {:.1f} s\n",
               last_miou, val.items.size(), a.epochs, cfg.upsample, cfg.skips ? ", skips" : "",
               train_seconds);
    fmt::print("saved {} (+ {}.csv, {}.svg)\n", model_path, stem, stem);
  }
  return 0;
}

// ---- eval ------------------------------------------------------------------------------
int cmd_eval(const cli::CommonArgs& a, int64_t limit) {
  std::unique_ptr<Fcn> net = load(a.model.empty() ? kDefaultModel : a.model);
  const SegmentationDataset test = load_segmentation_dataset(cli::scenes_split_dir(a, "test"), limit);
  if (static_cast<int>(test.class_names.size()) != net->config.num_classes)
    throw FileError(test.dir, fmt::format("{} classes, but the model has {}",
                                          test.class_names.size(), net->config.num_classes));
  const Evaluated e = evaluate(*net, test);
  cli::report_segmentation_eval(e.cm, test.class_names, test.items.size(),
                                e.seconds / double(std::max<size_t>(1, test.items.size())),
                                {{"upsample", net->config.upsample}, {"skips", net->config.skips}}, a);
  return 0;
}

// ---- predict -----------------------------------------------------------------------------
int cmd_predict(const cli::CommonArgs& a, const std::vector<std::string>& images) {
  std::vector<std::string> classes;
  std::unique_ptr<Fcn> net = load(a.model.empty() ? kDefaultModel : a.model, &classes);
  classes.insert(classes.begin(), "background");
  const std::string out_dir = cli::predictions_dir(a);
  fs::create_directories(out_dir);
  json all = json::array();
  for (const std::string& path : images) {
    const cli::Photo photo = cli::load_photo(path);
    const Image& img = photo.image;
    models::FcnStageTimes st;
    const Image labels = net->predict(img, &st);
    std::vector<Image> panels = {cli::colour_labels(img, labels)};
    // A generated scene's ground truth: DIR/masks/NAME beside DIR/images/NAME.
    const fs::path p(path), truth = p.parent_path().parent_path() / "masks" / p.filename();
    bool with_truth = false;
    if (p.parent_path().filename() == "images" && fs::exists(truth) && !photo.reduced()) {
      const Image gt = load_image(truth.string(), 1);
      with_truth = gt.width == img.width && gt.height == img.height;
      if (with_truth) panels.push_back(cli::colour_labels(img, gt));
    }
    const int scale = std::max(1, 384 / std::max(img.width, img.height));
    const std::string stem = (fs::path(out_dir) / p.stem()).string();
    save_image(stem + ".fcn.png", cli::side_by_side(panels, scale));
    json pixels = json::object();
    std::vector<int64_t> count(classes.size(), 0);
    for (uint8_t l : labels.pixels) ++count[l];
    for (size_t k = 0; k < classes.size(); ++k)
      if (count[k] > 0) pixels[classes[k]] = count[k];
    const json entry = {{"image", path}, {"width", img.width}, {"height", img.height},
                        {"pixels_per_class", pixels}, {"ground_truth_shown", with_truth},
                        {"picture", stem + ".fcn.png"}, {"seconds", st.total()}};
    write_file_atomic(stem + ".fcn.json", entry.dump(2) + "\n");
    all.push_back(entry);
    if (!a.json) {
      std::string present;
      for (auto it = pixels.begin(); it != pixels.end(); ++it)
        if (it.key() != "background") present += fmt::format(" {} {:.1f}%", it.key(), 100.0 * it.value().get<double>() / labels.pixels.size());
      fmt::print("{}:{} -> {}.fcn.png\n", path, present.empty() ? " background only" : present, stem);
    }
  }
  cli::output_result(a, "predict", all);
  return 0;
}

// ---- bench ---------------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const models::FcnConfig& random) {
  std::unique_ptr<Fcn> net;
  if (const std::string path = cli::bench_model_file(a, kDefaultModel); !path.empty()) {
    net = load(path);
  } else {
    Rng rng(a.seed);
    net = std::make_unique<Fcn>(random, rng);
  }
  const int S = net->config.input_size;
  auto opt = nn::AdamW(net->parameters(), 1e-3f);
  Rng rng(a.seed);
  return cli::bench_network(*net, opt, {1, 8}, [&](int batch) -> cli::BenchForward {
    const Tensor x = normal({batch, 3, S, S}, 0.0f, 1.0f, rng);
    Tensor labels({batch, S, S});
    for (int64_t i = 0; i < labels.numel(); ++i) labels[i] = float(i % net->config.num_classes);
    return [&net, x, labels] { return models::fcn_loss((*net)(Var(x)), labels); };
  }, a.json);
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"fcn: semantic segmentation, down-sampling and up-sampling (lesson 07)"};
  cli::CommonArgs args;
  TrainOptions topt;
  int64_t limit = 0;
  std::vector<std::string> images;

  cli::Command train = app.subcommand("train", "train on the train scenes' semantic masks");
  cli::add_train_flags(train, args, kTrainDefaults);
  cli::add_pretrained_flags(train, topt.pretrained, topt.scratch);
  models::FcnConfig& mc = topt.model;
  train.option("--upsample", mc.upsample, "nearest, bilinear, max-unpool or transpose (default)")
      .one_of({"nearest", "bilinear", "max-unpool", "transpose"});
  train.flag("!--no-skips", mc.skips, "no FCN skip connections (§4.2)");
  train.option("--limit", topt.limit, "use this many train scenes only").range(int64_t(1), int64_t(10000000));
  train.option("--val-images", topt.val_images, "test scenes for the per-epoch mean IoU").range(1, 100000);
  train.option("--background-weight", topt.background_weight, "loss weight of background pixels (1)")
      .range(0.0f, 1.0f);
  train.option("--c3", mc.c3, "channels of encoder stage 3 (64)").range(1, 1024);
  train.option("--c4", mc.c4, "channels of encoder stage 4 and the centre (128)").range(1, 1024);
  train.flag("!--no-flip", topt.flip, "no horizontal flipping");

  cli::Command eval = cli::add_command(app, args, "eval", "pixel accuracy, mean IoU, confusion matrix on the test scenes", true);
  eval.option("--limit", limit, "evaluate this many scenes only").range(int64_t(1), int64_t(10000000));

  cli::Command predict = cli::add_command(app, args, "predict", "colour-coded labels over images", true);
  predict.option("images", images, "PNG/JPEG/BMP files").required();

  cli::Command bench = cli::add_command(app, args, "bench", "images/s of a training step and of inference");
  bench.option("--upsample", mc.upsample, "the randomly initialised model's up-sampling (no model file)")
      .one_of({"nearest", "bilinear", "max-unpool", "transpose"});

  const int rc_parse = cli::parse(app, argc, argv);
  if (rc_parse >= 0) return rc_parse;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt);
    if (eval) return cmd_eval(args, limit);
    if (predict) return cmd_predict(args, images);
    return cmd_bench(args, topt.model);
  });
}
