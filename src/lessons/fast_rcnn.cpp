// Lesson 04: Fast R-CNN (Girshick, ICCV 2015). R-CNN runs a CNN once per warped
// proposal; Fast R-CNN runs the convolutional layers once per image, cuts every
// proposal's features out of the shared map with RoI max pooling, and trains the
// classifier and the class-specific box regressor together with one multitask loss.
//   bin/fast_rcnn train [--pretrained FILE | --scratch]   end to end on the train scenes
//   bin/fast_rcnn eval [--svd K]   VOC AP@0.5 per class + mAP, COCO AP on the test scenes;
//                                  with --svd also the truncated-SVD model (§3.1)
//   bin/fast_rcnn predict IMAGE...   detections drawn (PNG) and listed (JSON)
//   bin/fast_rcnn bench [--svd K]    seconds per image: proposals / conv / RoI pool / FC / NMS
// Proposals: Selective Search "fast" (lesson 03), cached on disk (data/cache/proposals).
#include <fmt/core.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/detection_dataset.h"
#include "eval/detection_eval.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/detector_program.h"
#include "lessons/common/fast_rcnn_report.h"
#include "lessons/common/fit.h"
#include "lessons/common/model_file.h"
#include "lessons/common/pretrained.h"
#include "lessons/common/predict_with_proposals.h"
#include "lessons/common/progress.h"
#include "lessons/common/proposal_options.h"
#include "lessons/common/stage_bench.h"
#include "models/fast_rcnn.h"
#include "proposals/region_proposals.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
using models::FastRcnn;
using models::FastRcnnStageTimes;

namespace {

const char* kProgram = "fast_rcnn";
const char* kDefaultModel = "data/models/fast_rcnn.safetensors";
// --batch: TrainOptions::images_per_batch. 8 epochs: ~5 min on 2 threads; val mAP
// plateaus from epoch 4-6
const cli::TrainDefaults kTrainDefaults{8, -1, 1e-3f};

// The model file: its config, its "classes" list, then its weights (model_file.h).
std::unique_ptr<FastRcnn> load(const std::string& path, std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<FastRcnn, models::FastRcnnConfig>(path, kProgram, classes);
}

struct TrainOptions {
  cli::DetectorTrainFlags start;
  int images_per_batch = 2;  // N (§2.3)
  float lambda = 1.0f;       // weight of the box loss
  models::FastRcnnBatchOptions batch;
  models::FastRcnnConfig model;
};

// ---- train ----------------------------------------------------------------------------
int cmd_train(cli::CommonArgs a, TrainOptions t, const ProposalOptions& po) {
  cli::DetectorTraining run(a, kDefaultModel, kTrainDefaults);
  if (a.batch > 0) t.images_per_batch = a.batch;
  a.batch = t.images_per_batch;
  if (t.batch.rois_per_batch < t.images_per_batch)
    throw std::invalid_argument(fmt::format("--rois {} is fewer than one per image (--batch {})",
                                            t.batch.rois_per_batch, t.images_per_batch));

  // 1. data and proposals (computed once, then read from the cache)
  const cli::DetectorScenes scenes = cli::load_detector_scenes(a, t.start);
  const DetectionDataset &train = scenes.train, &val = scenes.val;
  auto tp = Clock::now();
  // (~65 s for the 2000 scenes when the cache is cold: say how far it got)
  cli::TaskProgress shown("proposals", int64_t(train.items.size() + val.items.size()), a.quiet);
  const auto train_props = dataset_proposals(train, po, shown.callback());
  dataset_proposals(val, po, shown.callback());  // into the cache: each validation only reads it
  const double proposal_seconds = seconds_since(tp);
  if (!a.quiet) {
    int64_t n = 0;
    for (const auto& p : train_props) n += static_cast<int64_t>(p.size());
    fmt::print(stderr, "proposals: {:.0f}/image on {} train scenes ({:.1f} s, cache {})\n",
               double(n) / train.items.size(), train.items.size(), proposal_seconds,
               po.cache_dir.empty() ? "off" : po.cache_dir);
  }

  // 2. model: lesson 00's backbone, a new neck and head
  Rng rng(a.seed);
  models::FastRcnnConfig cfg = t.model;
  cfg.num_classes = static_cast<int>(train.class_names.size()) + 1;
  FastRcnn model(cfg, rng);
  const std::string init = cli::start_from_pretrained(t.start.pretrained, t.start.scratch, model, a.quiet);

  // 3. train with AdamW, warm-up and cosine decay (the paper: SGD, 30k + 10k iterations);
  //    each step N images in a shuffled order, R / N RoIs from each
  const int64_t n_images = static_cast<int64_t>(train.items.size());
  EpochBatches batches(n_images, t.images_per_batch, a.seed);
  int64_t fg = 0, rois_seen = 0;
  auto batch_loss = [&](int epoch, int64_t s, int64_t global) {
    if (s == 0) fg = rois_seen = 0;
    const std::vector<int64_t> idx = batches.step(epoch, s);
    const models::FastRcnnBatch b = models::make_fast_rcnn_batch(
        train, train_props, idx, t.batch, Rng(a.seed).fork(1000000 + static_cast<uint64_t>(global)));
    cli::StepLosses out;
    out.images = t.images_per_batch;
    out.skip = b.labels.empty();
    if (out.skip) return out;
    const models::FastRcnnLoss L = model.losses(b, t.lambda);
    out.total = L.total;
    out.parts = {{"cls_loss", L.classification.item()}, {"box_loss", L.localization.item()}};
    for (int l : b.labels) fg += l > 0;
    rois_seen += static_cast<int64_t>(b.labels.size());
    return out;
  };
  auto epoch_metrics = [&](cli::EpochLog& log) {
    log.metrics.emplace("train_cls_loss", 0.0);  // (an epoch without a single update)
    log.metrics.emplace("train_box_loss", 0.0);
    log.metrics["fg_fraction"] = rois_seen ? double(fg) / rois_seen : 0;
  };
  run.fit(model, batches.steps_per_epoch(), batch_loss,
          [&] { return cli::evaluate_fast_rcnn(model, val, po, {}).e; },  // proposals from the cache
          epoch_metrics);

  // 4. save
  const json args = {
      {"epochs", a.epochs}, {"images_per_batch", t.images_per_batch},
      {"rois_per_batch", t.batch.rois_per_batch}, {"fg_fraction", t.batch.fg_fraction},
      {"bg_iou_lo", t.batch.bg_iou_lo}, {"lambda", t.lambda}, {"flip", t.batch.flip},
      {"lr", a.lr}, {"seed", a.seed}, {"init", init}, {"train_images", train.items.size()},
      {"proposals", po.preset}, {"max_proposals", po.max_proposals},
      {"box_coder_weights", {10, 10, 5, 5}}};
  return run.finish(model, {kProgram, init, cfg.to_json(), train.class_names, args.dump(), val.items.size(),
                            proposal_seconds});
}

// ---- eval ------------------------------------------------------------------------------
int cmd_eval(const cli::CommonArgs& a, const ProposalOptions& po,
             const models::FastRcnnDetectOptions& d, const models::FastRcnnSvd& svd,
             int64_t limit) {
  std::unique_ptr<FastRcnn> net = load(a.model.empty() ? kDefaultModel : a.model);
  DetectionDataset test = load_detection_dataset(cli::scenes_split_dir(a, "test"), limit);
  const cli::FastRcnnEval r = cli::evaluate_fast_rcnn(*net, test, po, d);
  cli::FastRcnnEval rs;
  if (svd.fc6 > 0) {
    net->compress_fc(svd);
    rs = cli::evaluate_fast_rcnn(*net, test, po, d);
  }
  cli::report_fast_rcnn_eval(test, po, r, rs, svd, a);
  return 0;
}

// ---- predict -----------------------------------------------------------------------------
int cmd_predict(const cli::CommonArgs& a, const ProposalOptions& po,
                const models::FastRcnnDetectOptions& d, const models::FastRcnnSvd& svd,
                const std::vector<std::string>& images) {
  std::vector<std::string> classes;
  std::unique_ptr<FastRcnn> net = load(a.model.empty() ? kDefaultModel : a.model, &classes);
  if (svd.fc6 > 0) net->compress_fc(svd);
  const cli::PredictSettings s{kProgram, cli::predictions_dir(a), classes, "class score",
                               d.threshold, a};
  return cli::predict_with_proposals(images, po, s, [&](const Image& img, const std::vector<Box>& props) {
    FastRcnnStageTimes st;
    std::vector<Detection> dets = net->detect(img, props, d, &st);
    return ImageResult{std::move(dets), st.total(), 0.0};
  });
}

// ---- bench ---------------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const ProposalOptions& po, const models::FastRcnnSvd& svd,
              const std::vector<std::string>& paths, int64_t limit, bool cached) {
  const auto net = cli::bench_detector<FastRcnn, models::FastRcnnConfig>(a, kDefaultModel, kProgram);
  const std::vector<cli::BenchImage> images = cli::bench_images(a, paths, limit, 10);
  cli::report_fast_rcnn_bench(cli::time_fast_rcnn(*net, images, po, cached, svd), svd, a.json);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"fast_rcnn: shared conv features, RoI pooling, multitask loss (lesson 04)"};
  cli::CommonArgs args;
  TrainOptions topt;
  ProposalOptions po;
  models::FastRcnnDetectOptions dopt;
  models::FastRcnnSvd svd;
  bool cached = false;

  auto add_svd = [&](cli::Command& sub) {
    sub.option("--svd", svd.fc6, "truncated SVD of fc6 with this rank (§3.1; 0 = off)").range(0, 65536);
    sub.option("--svd-fc7", svd.fc7, "rank for fc7 (default: --svd / 4)").range(1, 65536);
  };

  cli::Command train = app.subcommand("train", "train end to end on the train scenes");
  cli::add_detector_train_flags(train, args, topt.start, topt.batch.flip,
                                {kTrainDefaults.epochs, topt.images_per_batch, kTrainDefaults.lr});
  cli::add_proposal_flags(train, po);
  train.option("--rois", topt.batch.rois_per_batch, "RoIs per mini-batch R (--batch is N images)")
      .range(1, 100000);
  train.option("--fg-fraction", topt.batch.fg_fraction, "foreground share of the RoIs").range(0.0f, 1.0f);
  train.option("--bg-lo", topt.batch.bg_iou_lo, "lowest IoU of a background RoI").range(0.0f, 0.5f);
  train.option("--lambda", topt.lambda, "weight of the box loss").range(0.0f, 1e6f);
  train.option("--pool", topt.model.pool, "RoI pooling grid side").range(1, 32);
  train.option("--hidden", topt.model.hidden, "fc6 / fc7 width").range(1, 16384);
  train.option("--neck-channels", topt.model.c3, "channels of the neck conv").range(1, 1024);
  train.option("--dropout", topt.model.dropout, "dropout after fc6 and fc7").range(0.0f, 0.95f);

  cli::DetectorCommands c;
  cli::add_detector_commands(app, args, c, "VOC AP@0.5 and COCO AP on the test scenes",
                             "draw detections on images (PNG + JSON)");
  for (cli::Command* sub : {&c.eval, &c.predict, &c.bench}) {
    cli::add_proposal_flags(*sub, po);
    add_svd(*sub);
  }
  cli::add_detect_flags(c.eval, dopt.threshold, dopt.nms, "lowest class score kept (default 0.05)");
  cli::add_detect_flags(c.predict, dopt.threshold, dopt.nms, "lowest class score drawn (default 0.5)");
  c.bench.flag("--cached", cached, "read proposals from the cache instead of timing them");

  return cli::run_detector_commands(app, argc, argv, args, train, c, {&dopt.threshold, 0.5f},
                                    {[&] { return cmd_train(args, topt, po); },
                                     [&] { return cmd_eval(args, po, dopt, svd, c.limit); },
                                     [&] { return cmd_predict(args, po, dopt, svd, c.images); },
                                     [&] { return cmd_bench(args, po, svd, c.images, c.limit, cached); }});
}
