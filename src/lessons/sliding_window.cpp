// Lesson 03: detection as classification. A CNN that answers "background or which
// class?" for one S x S crop is applied to every window of an image pyramid; windows
// whose class score passes a threshold become detections, and per-class NMS keeps the
// best of each cluster. Two ways to score the windows:
//   --mode crops   cut out every window and run the network on it (the naive method)
//   --mode conv    run the network once per pyramid level over the whole image and
//                  read every window's score off the resulting map (OverFeat, Sermanet
//                  et al. 2014, sec. 3.5): the same numbers, computed once.
//   bin/sliding_window train [--pretrained FILE | --scratch]   crop classifier, 11 classes
//   bin/sliding_window eval [--mode conv|crops]   VOC AP@0.5 and COCO AP on the test scenes
//   bin/sliding_window predict IMAGE... [--heatmap]   detections (+ per-class score maps)
//   bin/sliding_window bench [IMAGE...]   windows/image, seconds/image for both modes
// Data: `bin/datagen scenes` train and test directories (see lessons/03).
#include <fmt/core.h>
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/detection_dataset.h"
#include "detection/sliding_windows.h"
#include "image/image.h"
#include "lessons/common/cli.h"
#include "lessons/common/crop_training_report.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/fit.h"
#include "lessons/common/model_file.h"
#include "lessons/common/photo.h"
#include "lessons/common/pretrained.h"
#include "lessons/common/report.h"
#include "lessons/common/scan_bench.h"
#include "lessons/common/stage_bench.h"
#include "lessons/common/window_prediction.h"
#include "models/sliding_window.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kDefaultModel = "data/models/sliding_window.safetensors";
const cli::TrainDefaults kTrainDefaults{8, 64, 3e-3f};

// ---- flags shared by the subcommands that scan windows ----------------------------
struct ScanOptions {
  models::WindowScan scan;  // windows, crop batch and NMS; mode and threshold below
  std::string mode = "conv";
  float threshold = -1;  // -1: 0.05 for eval (AP needs the low scores), 0.5 for predict
  bool heatmap = false;
  int64_t limit = 0;
  // The scan for a command: --mode, and --threshold or the command's default.
  models::WindowScan with(float default_threshold) const {
    models::WindowScan s = scan;
    s.mode = mode == "crops" ? models::ScanMode::Crops : models::ScanMode::Conv;
    s.post.score_threshold = threshold < 0 ? default_threshold : threshold;
    return s;
  }
};

// --scales and --aspects: the windows' shapes (train draws its negatives from them too).
void add_window_shape_flags(cli::Command& sub, ScanOptions& o, const std::string& scales_help) {
  sub.option("--scales", o.scan.windows.scales, scales_help)
      .delimiter(',').no_extra_args().range(4.0f, 4096.0f);
  sub.option("--aspects", o.scan.windows.aspects, "window aspect ratios h/w")
      .delimiter(',').no_extra_args().range(0.05f, 20.0f);
}

void add_scan_flags(cli::Command& sub, ScanOptions& o, bool with_mode) {
  add_window_shape_flags(sub, o, "window sides in image pixels (area^0.5)");
  sub.option("--stride", o.scan.windows.stride,
             "window step in pyramid-level pixels (multiple of 4 for --mode conv)").range(1, 1024);
  if (with_mode)
    sub.option("--mode", o.mode, "crops: one network pass per crop; conv: one per level")
        .one_of({"crops", "conv"});
  sub.option("--nms", o.scan.post.nms_iou,
             "IoU above which a lower-scoring box of the same class is dropped").range(0.0, 1.0);
  sub.option("--crop-batch", o.scan.crop_batch, "crops per network call in --mode crops").range(1, 4096);
}

// The model file: the crop classifier and its object classes (network class k + 1 is
// classes[k]).
std::unique_ptr<models::CropClassifier> load_model(const std::string& path,
                                                   std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<models::CropClassifier, models::CropClassifierConfig>(
      path, "sliding_window", classes);
}

struct TrainOptions {
  std::string pretrained = cli::kPretrainedModel;
  bool scratch = false;
  int64_t limit = 0;
  models::CropClassifierConfig net;  // --hidden, --neck-channels, --input-size
  bool freeze_backbone = false;
};

int cmd_train(cli::CommonArgs a, const TrainOptions& t, const ScanOptions& so) {
  const cli::TrainStart start(a, kDefaultModel, kTrainDefaults);
  const std::string& model_path = start.model_path;

  // 1. data: crops of the training scenes, resampled every epoch
  DetectionDataset train = load_detection_dataset(cli::scenes_split_dir(a, "train"), t.limit);
  DetectionDataset test = load_detection_dataset(cli::scenes_split_dir(a, "test"), t.limit);
  if (train.items.empty()) throw FileError(train.dir, "the training set has no images");
  const models::SamplingOptions sampling;
  const SlidingWindowConfig& windows = so.scan.windows;
  const std::vector<models::CropSample> test_crops =
      models::sample_dataset(test, windows, sampling, Rng(12345));
  models::CropEpochs crops(train, windows, sampling, a.seed);  // resampled every epoch
  const int64_t per_epoch = crops.per_epoch();
  if (per_epoch == 0) throw FileError(train.dir, "no training crops (no objects?)");

  // 2. model: lesson 00's backbone + new neck and convolutional head
  Rng rng(a.seed);
  models::CropClassifierConfig cfg = t.net;
  cfg.num_classes = static_cast<int>(train.class_names.size()) + 1;
  models::CropClassifier model(cfg, rng);
  if (t.freeze_backbone) model.backbone->set_requires_grad(false);
  const std::string init = cli::start_from_pretrained(t.pretrained, t.scratch, model, a.quiet);

  // 3. softmax loss over background + classes (crop_losses), AdamW with a cosine LR
  const cli::FitOptions fo{a.epochs, (per_epoch + a.batch - 1) / a.batch, a.quiet, "adamw",
                           a.lr, 0.05f, 100,
                           {&model, model_path, a.resume}};

  // 4. train
  auto batch_loss = [&](int epoch, int64_t s, int64_t) {
    const models::CropBatch b = crops.batch(epoch, s, a.batch, cfg.input_size);
    models::CropLosses l = models::crop_losses(model, b);
    return cli::StepLosses{l.classification, {}, b.labels.numel(), l.correct};
  };
  models::CropAccuracy last;
  auto epoch_end = [&](cli::EpochLog& log) {
    last = models::crop_accuracy(model, test, test_crops);
    log.metrics["test_crop_acc"] = last.all;
    log.metrics["test_object_acc"] = last.objects;
    log.metrics["test_background_acc"] = last.background;
  };
  const auto t0 = Clock::now();
  auto logs = cli::fit(model.parameters(), fo, batch_loss, epoch_end);
  const double seconds = seconds_since(t0);

  // 5. save
  json args = {{"epochs", a.epochs},          {"batch", a.batch},
               {"lr", a.lr},                  {"seed", a.seed},
               {"init", init},                {"train_images", train.items.size()},
               {"crops_per_epoch", per_epoch}, {"freeze_backbone", t.freeze_backbone},
               {"scales", windows.scales},    {"aspects", windows.aspects}};
  const std::string stem = cli::save_training_run(
      model_path, model,
      {{"config", cfg.to_json()},
       {"classes", json(train.class_names).dump()},
       {"train_args", args.dump()},
       {"test_crop_accuracy", fmt::format("{:.4f}", last.all)}},
      logs, "sliding_window crop classifier (" + init + ")");
  cli::report_crop_training({model_path, stem, init, last, per_epoch, a.epochs, seconds}, a.json);
  return 0;
}

int cmd_eval(const cli::CommonArgs& a, const ScanOptions& so) {
  auto net = load_model(a.model.empty() ? kDefaultModel : a.model);
  DetectionDataset test = load_detection_dataset(cli::scenes_split_dir(a, "test"), so.limit);
  const models::WindowScan scan = so.with(0.05f);
  int64_t windows = 0, positions = 0;
  const DetectionEval e = evaluate_detector(test, [&](const DetectionItem& item) {
    models::WindowDetections d = models::detect(*net, item.image, scan);
    windows += d.scores.windows;
    positions += d.scores.positions;
    return ImageResult{d.dets, d.seconds, 0.0};
  });
  const double n = std::max<size_t>(1, test.items.size());
  if (cli::result_wanted(a)) {
    json j = detection_eval_json(e, test.class_names);
    j["mode"] = so.mode;
    j["windows_per_image"] = windows / n;
    j["positions_per_image"] = positions / n;
    if (cli::output_result(a, "eval", j)) return 0;
  }
  print_detection_eval(e, test.class_names);
  fmt::print("{} images, --mode {}: {:.0f} windows/image, {:.0f} network positions/image, "
             "{:.3f} s/image\n",
             test.items.size(), so.mode, windows / n, positions / n, e.seconds / n);
  return 0;
}

// ---- predict: boxes on the image, optional per-class score maps ------------------------
int cmd_predict(const cli::CommonArgs& a, const ScanOptions& so,
                const std::vector<std::string>& images) {
  std::vector<std::string> classes;
  auto net = load_model(a.model.empty() ? kDefaultModel : a.model, &classes);
  const std::string out_dir = cli::predictions_dir(a);
  const models::WindowScan scan = so.with(0.5f);
  const float threshold = scan.post.score_threshold;
  json all = json::array();
  for (const auto& path : images) {
    const cli::Photo photo = cli::load_photo(path);
    models::WindowDetections d;
    try {
      d = models::detect(*net, photo.image, scan);
    } catch (const std::invalid_argument& e) {
      throw FileError(path, e.what());  // e.g. a window too small for this large image
    }
    const json entry = cli::save_window_prediction(path, photo, d, classes, so.mode, so.heatmap, out_dir);
    if (!a.json)
      fmt::print("{}: {} detections >= {:.2f} from {} windows (--mode {}, {:.3f} s) -> {}{}\n",
                 path, d.dets.size(), threshold, d.scores.windows, so.mode, d.seconds,
                 entry["annotated"].get<std::string>(),
                 so.heatmap ? ", " + entry["heatmap"].get<std::string>() : std::string());
    all.push_back(entry);
  }
  cli::output_result(a, "predict", all);
  return 0;
}

// ---- bench: the cost of both scans on the same windows ----------------------------------
int cmd_bench(const cli::CommonArgs& a, const ScanOptions& so,
              const std::vector<std::string>& paths) {
  std::unique_ptr<models::CropClassifier> net;
  if (const std::string path = cli::bench_model_file(a, kDefaultModel); !path.empty()) {
    net = load_model(path);
  } else {  // timing does not depend on the weights
    Rng rng(a.seed);
    net = std::make_unique<models::CropClassifier>(TrainOptions().net, rng);
  }
  const std::vector<cli::BenchImage> images = cli::bench_images(a, paths, so.limit, 2);
  return cli::bench_window_scans(*net, images, so.scan, a.json, a.quiet);
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"sliding_window: a crop classifier scanned over an image pyramid (lesson 03)"};
  cli::CommonArgs args;
  TrainOptions topt;
  ScanOptions so;
  std::vector<std::string> images;

  cli::Command train = app.subcommand("train", "train the crop classifier (background + classes)");
  cli::add_train_flags(train, args, kTrainDefaults);
  cli::add_pretrained_flags(train, topt.pretrained, topt.scratch);
  train.flag("--freeze-backbone", topt.freeze_backbone, "train only the new layers");
  train.option("--hidden", topt.net.hidden, "channels of the 4x4 'fully connected' conv").range(1, 4096);
  train.option("--neck-channels", topt.net.c3, "channels of the neck conv").range(1, 1024);
  train.option("--input-size", topt.net.input_size, "crop side S (4k + 14: 18, 22, 26, 30, ...)")
      .range(18, 254);
  train.option("--limit", topt.limit, "use this many train (and test) scenes only")
      .range(int64_t(1), int64_t(10000000));
  add_window_shape_flags(train, so, "window sides the negatives are drawn between");

  cli::Command eval = cli::add_command(app, args, "eval", "VOC AP@0.5 and COCO AP on the test scenes", true);
  add_scan_flags(eval, so, true);
  eval.option("--threshold", so.threshold, "lowest class score kept (default 0.05)").range(0.0f, 1.0f);
  eval.option("--limit", so.limit, "evaluate this many scenes only").range(int64_t(1), int64_t(10000000));

  cli::Command predict = cli::add_command(app, args, "predict", "draw detections (and score maps) on images", true);
  add_scan_flags(predict, so, true);
  predict.option("--threshold", so.threshold, "lowest class score drawn (default 0.5)").range(0.0f, 1.0f);
  predict.flag("--heatmap", so.heatmap, "also write the per-class score maps");
  predict.option("images", images, "PNG/JPEG/BMP files").required();

  cli::Command bench = cli::add_command(app, args, "bench", "windows and seconds per image, crops vs conv");
  add_scan_flags(bench, so, false);
  bench.option("--limit", so.limit, "test scenes to time when no IMAGE is given (default 2)")
      .range(int64_t(1), int64_t(100000));
  bench.option("images", images, "PNG/JPEG/BMP files (default: test scenes)");

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  const int stride = so.scan.windows.stride;
  if ((eval || predict || bench) && (bench || so.mode == "conv") && stride % 4 != 0) {
    fmt::print(stderr, "error: --stride {}: the fully convolutional scan needs a multiple of 4\n",
               stride);
    return 2;
  }
  if (train && (topt.net.input_size - 14) % 4 != 0) {
    fmt::print(stderr, "error: --input-size {}: must be 4k + 14 (18, 22, 26, 30, ...)\n",
               topt.net.input_size);
    return 2;
  }
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt, so);
    if (eval) return cmd_eval(args, so);
    if (predict) return cmd_predict(args, so, images);
    return cmd_bench(args, so, images);
  });
}
