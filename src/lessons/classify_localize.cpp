// Lesson 01: classification + localization. One object per image; the network
// answers "what" (class scores, softmax loss) and "where" (a box, L2 loss) from one
// shared feature vector, trained with the multitask loss  L = CE + lambda * L2.
//   bin/classify_localize train [--pretrained FILE | --scratch] [--lambda L]
//   bin/classify_localize eval       accuracy, mean IoU, localization accuracy per class
//   bin/classify_localize predict IMAGE...   box + class + score drawn on the image
//   bin/classify_localize bench      images/s for inference and training
// Data: training scenes generated on the fly (data/online_scenes.h; or the fixed
// `bin/datagen scenes --single` files with --train-scenes files), tested on the fixed
// test directory (see lessons/01).
#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/batch_prefetch.h"
#include "data/batching.h"
#include "data/detection_dataset.h"
#include "data/online_scenes.h"
#include "image/draw.h"
#include "image/image.h"
#include "lessons/common/bench.h"
#include "lessons/common/cli.h"
#include "lessons/common/fit.h"
#include "lessons/common/localization_report.h"
#include "lessons/common/model_file.h"
#include "lessons/common/pretrained.h"
#include "lessons/common/report.h"
#include "models/localizer.h"
#include "nn/optimizer.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kDefaultModel = "data/models/classify_localize.safetensors";
const cli::TrainDefaults kTrainDefaults{36, 32, -1.0f, "", "",
                                        "0.004 (--optim adamw), 0.02 (sgd)"};
const char* kDefaultData = "data/generated/single";
// The lesson's data: large single objects (ImageNet-localization-like), see lessons/01.
const char* kSceneFlags = "--min-scale 40 --max-scale 112";
const float kMinScale = 40, kMaxScale = 112;  // the same, for the online training scenes

struct TrainOptions {
  std::string pretrained = cli::kPretrainedModel;
  bool scratch = false;
  float lambda = 5.0f;
  bool freeze_backbone = false;
  int64_t limit = 0;
  std::string optim = "adamw";
  int neck_channels = 64;
  // Lesson 00's backbone widths; others need --scratch (the pretrained weights do not fit).
  std::vector<int> backbone_channels = {16, 32};
  int input_size = 32;
  std::string cls_input = "fc";
  // No dropout by default: fresh scenes every step leave nothing to memorise (0.2
  // against the fixed 12,000 files).
  float dropout = 0.0f;
  // "online": a fresh generated scene for every training step (data/online_scenes.h);
  // "files": the fixed scenes in DATA/train, shuffled each epoch.
  std::string train_scenes = "online";
  bool no_prefetch = false;
};

std::unique_ptr<models::Localizer> load_model(const std::string& path) {
  return cli::load_weights<models::Localizer>(
      path, cli::read_model_config_as<models::LocalizerConfig>(path, "classify_localize"));
}

// The generated single-object set lives in DATA/train and DATA/test.
std::string split_dir(const cli::CommonArgs& a, const char* split) {
  const std::string dir = (fs::path(a.data.empty() ? kDefaultData : a.data) / split).string();
  if (a.data.empty() && !fs::exists(dir))
    throw FileError(dir, fmt::format("no such dataset directory; make it with `bin/datagen scenes "
                                     "--single {} --count {} --split {} --seed {} --out {}` (lessons/01)",
                                     kSceneFlags, split[1] == 'r' ? 12000 : 2000, split,
                                     split[1] == 'r' ? 1 : 2, dir));
  return dir;
}

int cmd_train(cli::CommonArgs a, const TrainOptions& t) {
  const cli::TrainStart start(a, kDefaultModel, kTrainDefaults);
  const std::string& model_path = start.model_path;
  if (a.lr < 0) a.lr = t.optim == "sgd" ? 0.02f : 4e-3f;

  // 1. data: fresh scenes of the train split's items (or the fixed files); the fixed
  // test scenes of the test split's items.
  const bool online = t.train_scenes == "online";
  DetectionDataset test = load_detection_dataset(split_dir(a, "test"));
  DetectionDataset train;
  OnlineScenes gen;
  int64_t n = 0;
  if (online) {
    gen.options.single = true;
    gen.options.min_scale = kMinScale;
    gen.options.max_scale = kMaxScale;
    gen.options.split = "train";
    gen.options.seed = a.seed;
    gen = make_online_scenes(gen.options);
    train.class_names = fashion_mnist_classes();
    n = t.limit > 0 ? t.limit : 12000;
  } else {
    train = load_detection_dataset(split_dir(a, "train"), t.limit);
    n = static_cast<int64_t>(train.items.size());
    if (n == 0) throw FileError(train.dir, "the training set has no images");
  }
  if (train.class_names != test.class_names)
    throw FileError(test.dir, "its classes are not the Fashion-MNIST ten of the training scenes");

  // 2. model: lesson 00's backbone (transfer learning) or random weights
  Rng rng(a.seed);
  models::LocalizerConfig cfg;
  cfg.num_classes = static_cast<int>(train.class_names.size());
  cfg.c1 = t.backbone_channels[0];
  cfg.c2 = t.backbone_channels[1];
  cfg.c3 = cfg.c4 = t.neck_channels;
  cfg.input_size = t.input_size;
  cfg.cls_input = t.cls_input;
  cfg.dropout = t.dropout;
  models::Localizer model(cfg, rng);
  if (t.freeze_backbone) model.backbone->set_requires_grad(false);
  const std::string init = cli::start_from_pretrained(t.pretrained, t.scratch, model, a.quiet);

  // 3. loss L = CE(scores, class) + lambda * ||box - target||^2 (Localizer::losses);
  // SGD (weight decay 5e-4) or AdamW (0.05) with a cosine LR
  const cli::FitOptions fo{a.epochs, (n + a.batch - 1) / a.batch, a.quiet, t.optim, a.lr,
                           t.optim == "sgd" ? 5e-4f : 0.05f, 100,
                           {&model, model_path, a.resume}};

  // 4. train
  std::vector<int64_t> order;
  Rng flip_rng;
  const models::SceneSource scene =
      online ? models::SceneSource([&gen](int64_t k) { return online_scene(gen, k); })
             : models::SceneSource([&train](int64_t k) { return train.items[k]; });
  BatchPrefetch<models::LocalizerBatch> batches([&](int64_t s) {  // s + 1 made while s trains
    return models::make_localizer_batch(scene, order, s * a.batch, a.batch, cfg.input_size,
                                        online ? nullptr : &flip_rng);
  });
  auto batch_loss = [&](int epoch, int64_t s, int64_t) {
    if (s == 0 && online) {  // scenes epoch*n .. epoch*n + n - 1: never seen before
      order.resize(n);
      for (int64_t i = 0; i < n; ++i) order[i] = static_cast<int64_t>(epoch) * n + i;
    } else if (s == 0) {
      Rng shuffle = Rng(a.seed).fork(100 + epoch);
      order = shuffled_indices(n, shuffle);
      flip_rng = Rng(a.seed).fork(10000 + epoch);
    }
    // (generated scenes come mirrored at random: no flip; none made ahead past the epoch)
    const bool ahead = !t.no_prefetch && s + 1 < fo.steps_per_epoch;
    models::LocalizerBatch b = batches.take(s, ahead ? s + 1 : -1);
    models::Localizer::Losses l = model.losses(b, t.lambda);
    // The two terms logged apart (train_cls_loss, train_box_loss), as fast_rcnn does.
    return cli::StepLosses{l.loss.total,
                           {{"cls_loss", l.loss.classification.item()},
                            {"box_loss", l.loss.localization.item()}},
                           b.labels.numel(), l.correct};
  };
  LocalizationEval last;
  auto epoch_end = [&](cli::EpochLog& log) {
    last = models::evaluate(model, test, 100);
    log.metrics["test_acc"] = last.accuracy();
    log.metrics["test_mean_iou"] = last.mean_iou();
    log.metrics["test_loc_acc"] = last.loc_accuracy();
  };
  const auto t0 = Clock::now();
  auto logs = cli::fit(model.parameters(), fo, batch_loss, epoch_end);
  const double seconds = seconds_since(t0);

  // 5. save model + logs
  json args = {{"epochs", a.epochs}, {"batch", a.batch},   {"lr", a.lr},
               {"seed", a.seed},     {"lambda", t.lambda}, {"init", init},
               {"train_images", n},  {"freeze_backbone", t.freeze_backbone},
               {"train_scenes", t.train_scenes}};
  const std::string stem = cli::save_training_run(
      model_path, model,
      {{"config", cfg.to_json()},
       {"classes", json(train.class_names).dump()},
       {"train_args", args.dump()},
       {"test_accuracy", fmt::format("{:.4f}", last.accuracy())},
       {"test_mean_iou", fmt::format("{:.4f}", last.mean_iou())}},
      logs, "classify_localize (" + init + ")");
  cli::report_localization_training({model_path, stem, init, last, a.epochs, seconds}, a.json);
  return 0;
}

int cmd_eval(const cli::CommonArgs& a) {
  auto model = load_model(a.model.empty() ? kDefaultModel : a.model);
  DetectionDataset test = load_detection_dataset(split_dir(a, "test"));
  LocalizationEval ev = models::evaluate(*model, test, a.batch > 0 ? a.batch : 100);
  if (!cli::output_result(a, "eval", cli::localization_eval_json(ev, test.class_names)))
    cli::print_localization_eval(ev, test.class_names);
  return 0;
}

int cmd_predict(const cli::CommonArgs& a, const std::vector<std::string>& images) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  auto model = load_model(model_path);
  const std::vector<std::string> names =
      cli::read_model_names(model_path, "classes", model->config.num_classes);
  const std::string out_dir = cli::predictions_dir(a);
  json all = json::array();
  for (const auto& path : images) {
    Image img = load_image(path, 3);
    const models::Localization r = model->localize(img);
    const Tensor& probs = r.probs;
    const Box& box = r.box;
    const int c = r.ranking[0];
    const int thick = std::max(2, std::min(img.width, img.height) / 100);
    draw_rect(img, box.x1, box.y1, box.x2, box.y2, palette_color(c), thick);
    draw_box_label(img, box.x1, box.y1, fmt::format("{} {:.2f}", names[c], probs[c]),
                   palette_color(c));
    fs::create_directories(out_dir);
    const std::string out_path =
        (fs::path(out_dir) / (fs::path(path).stem().string() + ".classify_localize.png")).string();
    save_image(out_path, img);
    json top = json::array();
    for (size_t k = 0; k < std::min<size_t>(5, r.ranking.size()); ++k)
      top.push_back({{"class", names[r.ranking[k]]}, {"probability", probs[r.ranking[k]]}});
    all.push_back({{"image", path}, {"box_xyxy", {box.x1, box.y1, box.x2, box.y2}},
                   {"top5", top}, {"annotated", out_path}});
    if (!a.json)
      fmt::print("{}: {} {:.3f} at [{:.0f}, {:.0f}, {:.0f}, {:.0f}] -> {}\n", path, names[c],
                 probs[c], box.x1, box.y1, box.x2, box.y2, out_path);
  }
  cli::output_result(a, "predict", all);
  return 0;
}

int cmd_bench(const cli::CommonArgs& a) {
  Rng rng(a.seed);
  models::LocalizerConfig cfg;
  models::Localizer model(cfg, rng);
  nn::Sgd opt(model.parameters(), 0.01f, nn::SgdOptions{0.9f, 0.0f, 0.0f, false});
  return cli::bench_network(model, opt, {1, 32}, [&](int batch) -> cli::BenchForward {
    const int S = cfg.input_size;
    models::LocalizerBatch b{normal({batch, 3, S, S}, 0.0f, 1.0f, rng), Tensor({batch}),
                             Tensor({batch, 4}, 0.5f)};
    for (int i = 0; i < batch; ++i) b.labels[i] = static_cast<float>(i % cfg.num_classes);
    return [&model, b] { return model.losses(b, 1.0f).loss.total; };
  }, a.json);
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"classify_localize: class scores + box regression, one object per image (lesson 01)"};
  cli::CommonArgs args;
  TrainOptions topt;
  std::vector<std::string> images;

  cli::Command train = app.subcommand("train", "train with CE + lambda * L2 and save the model");
  cli::add_train_flags(train, args, kTrainDefaults);
  cli::add_pretrained_flags(train, topt.pretrained, topt.scratch);
  train.option("--lambda", topt.lambda, "weight of the box (L2) loss").range(0.0f, 1e6f);
  train.option("--optim", topt.optim, "sgd (Nesterov momentum) or adamw").one_of({"sgd", "adamw"});
  train.option("--cls-input", topt.cls_input,
               "class head reads the fc features (fc) or the spatially averaged map (avg)")
      .one_of({"fc", "avg"});
  train.option("--neck-channels", topt.neck_channels, "channels of the two neck convs").range(1, 1024);
  train.option("--backbone-channels", topt.backbone_channels,
               "channels of the two backbone convs, C1,C2 (lesson 00's: 16,32)").expected(2).delimiter(',')
      .range(1, 1024);
  train.option("--input-size", topt.input_size, "network input side (multiple of 16)").range(16, 512);
  train.option("--dropout", topt.dropout, "dropout before the heads").range(0.0f, 0.95f);
  train.option("--train-scenes", topt.train_scenes,
               "online (fresh generated scenes every step) or files (DATA/train)")
      .one_of({"online", "files"});
  train.flag("--freeze-backbone", topt.freeze_backbone, "train only the new layers");
  train.flag("--no-prefetch", topt.no_prefetch, "make each batch in its turn (same results)");
  train.option("--limit", topt.limit,
               "scenes per epoch (online; default 12000) or the first N files (files)")
      .range(int64_t(1), int64_t(10000000));
  cli::Command eval = cli::add_command(app, args, "eval", "accuracy, mean IoU and localization accuracy", true);
  cli::Command predict = cli::add_command(app, args, "predict", "draw the predicted box and class on images", true);
  predict.option("images", images, "PNG/JPEG/BMP files").required();
  cli::add_command(app, args, "bench", "images/s at batch 1 and 32");

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt);
    if (eval) return cmd_eval(args);
    if (predict) return cmd_predict(args, images);
    return cmd_bench(args);
  });
}
