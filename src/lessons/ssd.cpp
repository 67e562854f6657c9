// Lesson 06: SSD (Liu et al., ECCV 2016) -- detection without proposals. One network maps
// the image to class scores and box offsets for default boxes on several feature maps of
// decreasing resolution (fine maps for small objects, coarse for large); training matches
// each object to default boxes, mines the hardest negatives to 3:1, and minimises
// (softmax CE + alpha smooth L1) / N.
//   bin/ssd train [--pretrained FILE | --scratch]   on the train scenes
//   bin/ssd eval      VOC AP@0.5 per class + mAP, COCO AP, seconds per image
//   bin/ssd predict IMAGE... [--show-default-boxes]
//                     detections (PNG + JSON); the default boxes of one cell on each map
//   bin/ssd bench     seconds per image: backbone + extra layers / heads / decode + NMS
#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/detection_dataset.h"
#include "detection/default_boxes.h"
#include "eval/detection_eval.h"
#include "image/draw.h"
#include "image/transforms.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/detector_program.h"
#include "lessons/common/fit.h"
#include "lessons/common/model_file.h"
#include "lessons/common/predict_with_proposals.h"
#include "lessons/common/pretrained.h"
#include "lessons/common/report.h"
#include "lessons/common/rpn_report.h"
#include "lessons/common/stage_bench.h"
#include "models/detection_batch.h"
#include "models/ssd.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
using models::Ssd;

namespace {

const char* kProgram = "ssd";
const char* kDefaultModel = "data/models/ssd.safetensors";
// --batch: TrainOptions::images_per_batch. lr 2e-3: 64.9 %, 3e-3: 67.2, 4e-3: 67.9,
// 6e-3: 69.2, 1e-2: 69.2 (val mAP)
const cli::TrainDefaults kTrainDefaults{8, -1, 6e-3f};

std::unique_ptr<Ssd> load(const std::string& path, std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<Ssd, models::SsdConfig>(path, kProgram, classes);
}

struct TrainOptions {
  cli::DetectorTrainFlags start;
  bool flip = true;
  int images_per_batch = 8;
  models::SsdTrainingOptions train;
  models::SsdConfig model;
};

// The detector as eval, bench and the validation see it: detections and stage times.
const cli::DetectorStages kStages{{"features", "heads", "postprocess"},
                                  {"conv layers", "predictors", "decode + NMS"}, {}, "none"};
cli::StageRun detect_stages(Ssd& net, const Image& img, const models::SsdDetectOptions& d) {
  models::SsdStageTimes st;
  cli::StageRun r;
  r.detections = net.detect(img, d, &st);
  r.seconds = {st.features, st.heads, st.postprocess};
  return r;
}

// ---- train ----------------------------------------------------------------------------
int cmd_train(cli::CommonArgs a, TrainOptions t) {
  cli::DetectorTraining run(a, kDefaultModel, kTrainDefaults);
  if (a.batch > 0) t.images_per_batch = a.batch;

  // 1. data
  const cli::DetectorScenes scenes = cli::load_detector_scenes(a, t.start);
  const DetectionDataset &train = scenes.train, &val = scenes.val;

  // 2. model: lesson 00's backbone, new extra layers and predictors
  Rng rng(a.seed);
  models::SsdConfig cfg = t.model;
  cfg.num_classes = static_cast<int>(train.class_names.size()) + 1;
  Ssd model(cfg, rng);
  const std::string init = cli::start_from_pretrained(t.start.pretrained, t.start.scratch, model, a.quiet);

  // 3. matching, hard negative mining, (L_conf + alpha L_loc) / N
  EpochBatches batches(static_cast<int64_t>(train.items.size()), t.images_per_batch, a.seed);
  int64_t positives = 0, images = 0;
  auto batch_loss = [&](int epoch, int64_t s, int64_t global) {
    if (s == 0) positives = images = 0;
    const std::vector<int64_t> idx = batches.step(epoch, s);
    Rng step_rng = Rng(a.seed).fork(1000000 + static_cast<uint64_t>(global));
    const models::DetectionBatch b = models::make_detection_batch(train, idx, t.flip, step_rng);
    const models::SsdLoss L = model.losses(b.images, b.boxes, b.labels, t.train);
    positives += L.positives;
    images += static_cast<int64_t>(idx.size());
    cli::StepLosses out;
    out.images = static_cast<int64_t>(idx.size());
    out.total = L.total;
    out.parts = {{"conf", L.classification.item()}, {"loc", L.localization.item()}};
    return out;
  };
  run.fit(
      model, batches.steps_per_epoch(), batch_loss,
      [&] { return cli::evaluate_stages(val, kStages, [&](const Image& img) { return detect_stages(model, img, {}); }); },
      [&](cli::EpochLog& log) { log.metrics["positives_per_image"] = images ? double(positives) / images : 0; });

  // 4. save
  const json args = {{"epochs", a.epochs}, {"images_per_batch", t.images_per_batch},
                     {"match_iou", t.train.match_iou}, {"neg_pos_ratio", t.train.neg_pos_ratio},
                     {"alpha", t.train.alpha}, {"flip", t.flip}, {"lr", a.lr}, {"seed", a.seed},
                     {"init", init}, {"train_images", train.items.size()}};
  return run.finish(model, {kProgram, init, cfg.to_json(), train.class_names, args.dump(), val.items.size()});
}

// ---- eval ------------------------------------------------------------------------------
int cmd_eval(const cli::CommonArgs& a, const models::SsdDetectOptions& d, int64_t limit) {
  std::unique_ptr<Ssd> net = load(a.model.empty() ? kDefaultModel : a.model);
  const cli::DetectorTest t =
      cli::test_detector(a, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, d); });
  json extra = json::object();
  if (!t.scenes.items.empty()) {  // the scenes are all the same size
    const Image& img = t.scenes.items[0].image;
    extra["default_boxes_per_image"] =
        net->default_boxes(net->map_sizes(img.height, img.width), img.height, img.width).size();
  }
  if (cli::report_detector_test(a, t, extra)) return 0;
  const size_t n = t.scenes.items.size();
  fmt::print("{} images: {:.4f} s/image (no proposals: one network, then NMS)\n", n,
             t.e.seconds / double(std::max<size_t>(1, n)));
  return 0;
}

// ---- predict -----------------------------------------------------------------------------
// STEM.default_boxes.K.png: map K's default boxes at the cell under (x, y), one colour per
// box, on the image enlarged to ~384 pixels.
void save_default_box_pictures(Ssd& net, const Image& img, float x, float y, const std::string& stem) {
  const std::vector<GridSize> maps = net.map_sizes(img.height, img.width);
  const std::vector<double> s = ssd_scales(net.config.s_min, net.config.s_max, int(maps.size()));
  const int zoom = std::max(1, 384 / std::max(img.width, img.height));
  for (size_t k = 0; k < maps.size(); ++k) {
    const std::vector<Box> boxes = map_default_boxes(maps[k], s[k], s[k + 1], net.config.aspect_ratios,
                                                     img.height, img.width);
    const int cx = std::clamp(int(x / img.width * maps[k].width), 0, maps[k].width - 1);
    const int cy = std::clamp(int(y / img.height * maps[k].height), 0, maps[k].height - 1);
    save_image(fmt::format("{}.default_boxes.{}.png", stem, k + 1),
               cli::draw_cell_anchors(img, boxes, net.config.boxes_per_cell(), maps[k].width, cx, cy, zoom));
  }
}

int cmd_predict(const cli::CommonArgs& a, const models::SsdDetectOptions& d, bool show_boxes,
                const std::vector<std::string>& images) {
  std::vector<std::string> classes;
  std::unique_ptr<Ssd> net = load(a.model.empty() ? kDefaultModel : a.model, &classes);
  const cli::PredictSettings s{kProgram, cli::predictions_dir(a), classes, "class score",
                               d.threshold, a};
  return cli::predict_images(images, s, [&](const std::string& path, const Image& img) {
    cli::PredictedImage p;
    p.result = cli::image_result(detect_stages(*net, img, d), kStages);
    if (show_boxes) {
      std::filesystem::create_directories(s.out_dir);
      const auto& dets = p.result.detections;
      save_default_box_pictures(*net, img, dets.empty() ? img.width / 2.0f : dets[0].box.cx(),
                                dets.empty() ? img.height / 2.0f : dets[0].box.cy(),
                                (std::filesystem::path(s.out_dir) / std::filesystem::path(path).stem()).string());
    }
    return p;
  });
}

// ---- bench ---------------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const models::SsdDetectOptions& d,
              const std::vector<std::string>& paths, int64_t limit) {
  const auto net = cli::bench_detector<Ssd, models::SsdConfig>(a, kDefaultModel, kProgram);
  return cli::bench_stages(a, paths, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, d); });
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"ssd: default boxes on several maps, one network, no proposals (lesson 06)"};
  cli::CommonArgs args;
  TrainOptions topt;
  models::SsdDetectOptions dopt;
  bool show_boxes = false;

  cli::Command train = app.subcommand("train", "train on the train scenes");
  cli::add_detector_train_flags(train, args, topt.start, topt.flip,
                                {kTrainDefaults.epochs, topt.images_per_batch, kTrainDefaults.lr});
  models::SsdConfig& mc = topt.model;
  models::SsdTrainingOptions& to = topt.train;
  train.option("--s-min", mc.s_min, "smallest default-box scale, of the image side (0.12)").range(0.01f, 2.0f);
  train.option("--s-max", mc.s_max, "largest default-box scale (0.48)").range(0.01f, 2.0f);
  train.option("--aspect-ratios", mc.aspect_ratios, "width/height ratios besides 1, each with its reciprocal (2)")
      .delimiter(',').range(1.05f, 10.0f).expected(0, 8);
  train.option("--maps", mc.maps, "feature maps: 32x32, then halved by each extra layer (4)").range(1, 6);
  train.option("--channels", mc.channels, "width of every feature map (64)").range(1, 1024);
  train.option("--match-iou", to.match_iou, "IoU of a positive default box (0.5)").range(0.0f, 1.0f);
  train.option("--neg-ratio", to.neg_pos_ratio, "hard negatives per positive (3)").range(0.0f, 1000.0f);
  train.option("--alpha", to.alpha, "weight of the localisation loss (1)").range(0.0f, 1000.0f);

  cli::DetectorCommands c;
  cli::add_detector_commands(app, args, c, "VOC AP@0.5 and COCO AP on the test scenes",
                             "draw detections and default boxes");
  cli::add_detect_flags(c.eval, dopt.threshold, dopt.nms, "lowest class score kept (default 0.01)",
                        "per-class NMS IoU (0.45)");

  cli::add_detect_flags(c.predict, dopt.threshold, dopt.nms, "lowest class score drawn (default 0.5)",
                        "per-class NMS IoU (0.45)");
  c.predict.flag("--show-default-boxes", show_boxes,
               "draw each map's default boxes at the first detection's (or the central) cell");


  const auto run_train = [&] {
    if (mc.s_min > mc.s_max) throw std::invalid_argument("--s-min is above --s-max");
    return cmd_train(args, topt);
  };
  return cli::run_detector_commands(app, argc, argv, args, train, c, {&dopt.threshold, 0.5f},
                                    {run_train, [&] { return cmd_eval(args, dopt, c.limit); },
                                     [&] { return cmd_predict(args, dopt, show_boxes, c.images); },
                                     [&] { return cmd_bench(args, dopt, c.images, c.limit); }});
}
