// Lesson 06: YOLO v1 (Redmon et al., CVPR 2016) -- detection without proposals. One
// network maps the image to an S x S x (5B + C) tensor: for each grid cell, B boxes
// (x, y, w, h, confidence) and one class distribution; the loss is sum-squared error
// (eq. 3); at test time Pr(class | object) * confidence scores every box, then per-class
// NMS. No Selective Search, no RPN, no RoI pooling.
//   bin/yolo train [--pretrained FILE | --scratch] [--grid S] [--boxes B] [--head conv|fc]
//   bin/yolo eval       VOC AP@0.5 per class + mAP, COCO AP, seconds per image
//   bin/yolo predict IMAGE... [--show-grid]   detections (PNG + JSON); the grid, each
//                       cell's boxes and the class probability map (the paper's Fig. 2)
//   bin/yolo bench      seconds per image: backbone / head / decode + NMS
#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/detection_dataset.h"
#include "eval/detection_eval.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/detector_program.h"
#include "lessons/common/fit.h"
#include "lessons/common/model_file.h"
#include "lessons/common/predict_with_proposals.h"
#include "lessons/common/pretrained.h"
#include "lessons/common/report.h"
#include "lessons/common/stage_bench.h"
#include "lessons/common/yolo_pictures.h"
#include "models/yolo.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
using models::Yolo;

namespace {

const char* kProgram = "yolo";
const char* kDefaultModel = "data/models/yolo.safetensors";
const cli::TrainDefaults kTrainDefaults{14, 4, 2e-3f};  // batch 4: more steps beat larger batches here (lessons/06)

std::unique_ptr<Yolo> load(const std::string& path, std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<Yolo, models::YoloConfig>(path, kProgram, classes);
}

struct TrainOptions {
  cli::DetectorTrainFlags start;
  bool flip = true;
  float jitter = 0.0f;
  models::YoloConfig model;
  models::YoloLossOptions loss;
};

// The detector as eval, bench and the validation see it: detections and stage times.
const cli::DetectorStages kStages{{"backbone", "head", "decode_nms"},
                                  {"backbone", "neck + head", "decode + NMS"}, {}, "none"};
cli::StageRun detect_stages(Yolo& net, const Image& img, const models::YoloDetectOptions& d) {
  models::YoloStageTimes st;
  cli::StageRun r;
  r.detections = net.detect(img, d, &st);
  r.seconds = {st.backbone, st.head, st.decode};
  return r;
}

// ---- train ----------------------------------------------------------------------------
int cmd_train(cli::CommonArgs a, TrainOptions t) {
  cli::DetectorTraining run(a, kDefaultModel, kTrainDefaults);

  // 1. data: images and their boxes, nothing else -- no proposals
  const cli::DetectorScenes scenes = cli::load_detector_scenes(a, t.start);
  const DetectionDataset &train = scenes.train, &val = scenes.val;

  // 2. model: lesson 00's backbone, a new neck and the S x S x (5B + C) head
  Rng rng(a.seed);
  models::YoloConfig cfg = t.model;
  cfg.num_classes = static_cast<int>(train.class_names.size());
  Yolo model(cfg, rng);
  const std::string init = cli::start_from_pretrained(t.start.pretrained, t.start.scratch, model, a.quiet);

  // 3. eq. 3 on each batch: the targets depend on the current predictions (which of a
  //    cell's B predictors is responsible), so they are made after the forward pass
  EpochBatches batches(static_cast<int64_t>(train.items.size()), a.batch, a.seed);
  auto batch_loss = [&](int epoch, int64_t s, int64_t global) {
    Rng step_rng = Rng(a.seed).fork(1000000 + static_cast<uint64_t>(global));
    const models::YoloBatch b = models::make_yolo_batch(train, batches.step(epoch, s), cfg, t.flip, t.jitter,
                                                         step_rng);
    const Var out = model(Var(b.images));
    const auto targets = models::yolo_targets(out.value(), b.boxes, b.labels, cfg,
                                              cfg.input_size, cfg.input_size);
    const models::YoloLoss L = models::yolo_loss(out, targets, cfg, t.loss);
    cli::StepLosses r;
    r.images = b.images.size(0);
    r.total = L.total;
    r.parts = {{"xy", L.xy.item()}, {"wh", L.wh.item()}, {"obj", L.object.item()},
               {"noobj", L.no_object.item()}, {"cls", L.classification.item()}};
    return r;
  };
  run.fit(model, batches.steps_per_epoch(), batch_loss, [&] {
    return cli::evaluate_stages(val, kStages, [&](const Image& img) { return detect_stages(model, img, {}); });
  });

  // 4. save
  const json args = {{"epochs", a.epochs}, {"batch", a.batch}, {"lr", a.lr}, {"seed", a.seed},
                     {"lambda_coord", t.loss.lambda_coord}, {"lambda_noobj", t.loss.lambda_noobj},
                     {"flip", t.flip}, {"jitter", t.jitter}, {"init", init}, {"train_images", train.items.size()}};
  return run.finish(model, {kProgram, init, cfg.to_json(), train.class_names, args.dump(), val.items.size()});
}

// ---- eval ------------------------------------------------------------------------------
int cmd_eval(const cli::CommonArgs& a, const models::YoloDetectOptions& d, int64_t limit) {
  std::unique_ptr<Yolo> net = load(a.model.empty() ? kDefaultModel : a.model);
  const cli::DetectorTest t =
      cli::test_detector(a, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, d); });
  const models::YoloConfig& c = net->config;
  if (cli::report_detector_test(a, t, {{"grid", c.grid}, {"boxes_per_cell", c.boxes}})) return 0;
  const size_t n = t.scenes.items.size();
  fmt::print("{} images: {:.4f} s/image, no proposals ({} x {} grid, B = {}: {} boxes/image)\n", n,
             t.e.seconds / double(std::max<size_t>(1, n)), c.grid, c.grid, c.boxes, c.grid * c.grid * c.boxes);
  return 0;
}

// ---- predict -----------------------------------------------------------------------------
int cmd_predict(const cli::CommonArgs& a, const models::YoloDetectOptions& d, bool show_grid,
                const std::vector<std::string>& images) {
  std::vector<std::string> classes;
  std::unique_ptr<Yolo> net = load(a.model.empty() ? kDefaultModel : a.model, &classes);
  const models::YoloConfig& c = net->config;
  const cli::PredictSettings s{kProgram, cli::predictions_dir(a), classes, "class confidence",
                               d.threshold, a};
  return cli::predict_images(images, s, [&](const std::string& path, const Image& img) {
    models::YoloStageTimes st;
    cli::PredictedImage p;
    const Tensor out = net->predict(img, &st);
    {
      ScopedTimer timer(st.decode);
      p.result.detections = models::decode_yolo_output(out.data(), c, img.width, img.height, d);
    }
    p.result.seconds = st.total();
    if (show_grid) {
      std::filesystem::create_directories(s.out_dir);
      const auto stem = std::filesystem::path(s.out_dir) / std::filesystem::path(path).stem();
      save_image(stem.string() + ".grid.png", cli::yolo_grid_picture(img, out.data(), c, classes));
    }
    return p;
  });
}

// ---- bench ---------------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const models::YoloDetectOptions& d,
              const std::vector<std::string>& paths, int64_t limit) {
  const auto net = cli::bench_detector<Yolo, models::YoloConfig>(a, kDefaultModel, kProgram);
  return cli::bench_stages(a, paths, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, d); });
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"yolo: one network from image to S x S x (5B + C) grid (lesson 06)"};
  cli::CommonArgs args;
  TrainOptions topt;
  models::YoloDetectOptions dopt;
  bool show_grid = false;

  cli::Command train = app.subcommand("train", "train on the train scenes (eq. 3)");
  cli::add_detector_train_flags(train, args, topt.start, topt.flip, kTrainDefaults);
  models::YoloConfig& mc = topt.model;
  train.option("--grid", mc.grid, "S: grid cells per side (default 8)").range(1, 32);
  train.option("--boxes", mc.boxes, "B: boxes per cell (default 1; the paper 2)").range(1, 8);
  train.option("--head", mc.head, "conv (1x1 conv per cell) or fc (the paper's two FC layers)")
      .one_of({"conv", "fc"});
  train.option("--width", mc.width, "the neck's first conv width (default 64)").range(1, 1024);
  train.option("--hidden", mc.hidden, "the fc head's hidden width (default 256)").range(1, 16384);
  train.option("--lambda-coord", topt.loss.lambda_coord, "weight of the box coordinates (5)").range(0.0f, 1e6f);
  train.option("--lambda-noobj", topt.loss.lambda_noobj, "weight of no-object confidences (0.5)").range(0.0f, 1e6f);
  train.option("--jitter", topt.jitter, "random zoom and shift, fraction of the size").range(0.0f, 0.5f);

  cli::DetectorCommands c;
  cli::add_detector_commands(app, args, c, "VOC AP@0.5 and COCO AP on the test scenes",
                             "draw detections and the grid");
  cli::add_detect_flags(c.eval, dopt.threshold, dopt.nms, "lowest class-specific confidence kept (default 0.05)");
  cli::add_detect_flags(c.predict, dopt.threshold, dopt.nms, "lowest class-specific confidence drawn (default 0.2)");
  c.predict.flag("--show-grid", show_grid, "draw the grid, every cell's boxes and the class map");

  return cli::run_detector_commands(app, argc, argv, args, train, c, {&dopt.threshold, 0.2f},
                                    {[&] { return cmd_train(args, topt); },  // --grid 1..32: within the 32 x 32 map
                                     [&] { return cmd_eval(args, dopt, c.limit); },
                                     [&] { return cmd_predict(args, dopt, show_grid, c.images); },
                                     [&] { return cmd_bench(args, dopt, c.images, c.limit); }});
}
