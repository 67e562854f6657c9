// Lesson 05: Faster R-CNN (Ren et al., NeurIPS 2015). Fast R-CNN's test time is
// dominated by Selective Search; Faster R-CNN makes the CNN do the proposals: a Region
// Proposal Network on the shared conv map scores k anchors at every position, and the
// whole detector trains jointly with four losses (RPN objectness and box, head
// classification and box).
//   bin/faster_rcnn train [--pretrained FILE | --scratch]   end to end on the train scenes
//   bin/faster_rcnn eval      VOC AP@0.5 per class + mAP, COCO AP, and the RPN's proposal
//                             recall against the number of proposals, beside Selective
//                             Search's on the same scenes
//   bin/faster_rcnn predict IMAGE... [--show-anchors] [--show-proposals N]
//                             detections (PNG + JSON), the objectness map, anchors, proposals
//   bin/faster_rcnn bench     seconds per image: backbone / RPN / proposal layer / RoI pool /
//                             head / NMS
#include <fmt/core.h>
#include <fmt/format.h>

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
#include "lessons/common/proposal_options.h"
#include "lessons/common/rpn_report.h"
#include "lessons/common/stage_bench.h"
#include "models/faster_rcnn.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
using models::FasterRcnn;

namespace {

const char* kProgram = "faster_rcnn";
const char* kDefaultModel = "data/models/faster_rcnn.safetensors";
const cli::TrainDefaults kTrainDefaults{8, -1, 1e-3f};  // --batch: TrainOptions::images_per_batch

std::unique_ptr<FasterRcnn> load(const std::string& path, std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<FasterRcnn, models::FasterRcnnConfig>(path, kProgram, classes);
}

struct TrainOptions {
  cli::DetectorTrainFlags start;
  bool flip = true;
  int images_per_batch = 2;
  models::FasterRcnnTrainingOptions train;
  models::FasterRcnnConfig model;
};

// The detector as eval, bench and the validation see it: detections and stage times, the
// RPN (head + proposal layer) being the proposals' time.
const cli::DetectorStages kStages = cli::faster_rcnn_stages();
cli::StageRun detect_stages(FasterRcnn& net, const Image& img, const models::FasterRcnnDetectOptions& d) {
  models::FasterRcnnStageTimes st;
  cli::StageRun r;
  r.detections = net.detect(img, d, &st);
  r.seconds = st.in_order();
  r.proposals = d.proposals.post_nms_top_n;
  return r;
}

// ---- train ----------------------------------------------------------------------------
int cmd_train(cli::CommonArgs a, TrainOptions t) {
  cli::DetectorTraining run(a, kDefaultModel, kTrainDefaults);
  if (a.batch > 0) t.images_per_batch = a.batch;

  // 1. data: no proposals to compute -- the network makes its own
  const cli::DetectorScenes scenes = cli::load_detector_scenes(a, t.start);
  const DetectionDataset &train = scenes.train, &val = scenes.val;

  // 2. model: lesson 00's backbone, Fast R-CNN's neck and head, a new RPN
  Rng rng(a.seed);
  models::FasterRcnnConfig cfg = t.model;
  cfg.fast_rcnn.num_classes = static_cast<int>(train.class_names.size()) + 1;
  FasterRcnn model(cfg, rng);
  const std::string init = cli::start_from_pretrained(t.start.pretrained, t.start.scratch, model, a.quiet);

  // 3. approximate joint training (§3.2): the four losses summed, one backward pass
  EpochBatches batches(static_cast<int64_t>(train.items.size()), t.images_per_batch, a.seed);
  int64_t fg = 0, rois_seen = 0;
  auto batch_loss = [&](int epoch, int64_t s, int64_t global) {
    if (s == 0) fg = rois_seen = 0;
    Rng step_rng = Rng(a.seed).fork(1000000 + static_cast<uint64_t>(global));
    const models::DetectionBatch b = models::make_detection_batch(train, batches.step(epoch, s), t.flip, step_rng);
    const models::FasterRcnnLoss L = model.losses(b, t.train, step_rng);
    fg += L.foreground;
    rois_seen += L.rois;
    cli::StepLosses out;
    out.images = t.images_per_batch;
    out.total = L.total;
    out.parts = {{"rpn_cls", L.rpn_objectness.item()}, {"rpn_box", L.rpn_box.item()},
                 {"cls_loss", L.classification.item()}, {"box_loss", L.localization.item()}};
    return out;
  };
  run.fit(
      model, batches.steps_per_epoch(), batch_loss,
      [&] { return cli::evaluate_stages(val, kStages, [&](const Image& img) { return detect_stages(model, img, {}); }); },
      [&](cli::EpochLog& log) { log.metrics["fg_fraction"] = rois_seen ? double(fg) / rois_seen : 0; });

  // 4. save
  const auto& p = t.train.proposals;
  const json args = {
      {"epochs", a.epochs}, {"images_per_batch", t.images_per_batch},
      {"rpn_positive_iou", t.train.rpn.positive_iou}, {"rpn_negative_iou", t.train.rpn.negative_iou},
      {"rpn_anchors_per_image", t.train.rpn.anchors_per_image},
      {"pre_nms_top_n", p.pre_nms_top_n}, {"post_nms_top_n", p.post_nms_top_n},
      {"rois_per_image", t.train.rois_per_image}, {"fg_fraction", t.train.fg_fraction},
      {"bg_iou_lo", t.train.bg_iou_lo},
      {"flip", t.flip}, {"lr", a.lr}, {"seed", a.seed}, {"init", init},
      {"train_images", train.items.size()}};
  return run.finish(model, {kProgram, init, cfg.to_json(), train.class_names, args.dump(), val.items.size()});
}

// ---- eval ------------------------------------------------------------------------------
int cmd_eval(const cli::CommonArgs& a, const ProposalOptions& po,
             const models::FasterRcnnDetectOptions& d, int64_t limit, bool recall) {
  std::unique_ptr<FasterRcnn> net = load(a.model.empty() ? kDefaultModel : a.model);
  const cli::DetectorTest t =
      cli::test_detector(a, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, d); });
  cli::RpnRecall r;
  if (recall) r = cli::rpn_recall(*net, t.scenes, po, {1, 10, 20, 50, 100, 200, 300, 500, 1000});
  cli::report_faster_rcnn_eval(t.scenes, t.e, recall ? &r : nullptr, d.proposals.post_nms_top_n, a,
                               a.out.empty() ? "out/faster_rcnn" : a.out);
  return 0;
}

// ---- predict -----------------------------------------------------------------------------
struct Pictures {
  bool anchors = false;
  int proposals = 0;  // draw the first N RPN proposals (0: none)
};

int cmd_predict(const cli::CommonArgs& a, const models::FasterRcnnDetectOptions& d,
                const Pictures& show, const std::vector<std::string>& images) {
  std::vector<std::string> classes;
  std::unique_ptr<FasterRcnn> net = load(a.model.empty() ? kDefaultModel : a.model, &classes);
  const cli::PredictSettings s{kProgram, cli::predictions_dir(a), classes, "class score",
                               d.head.threshold, a};
  return cli::predict_images(images, s, [&](const std::string& path, const Image& img) {
    cli::PredictedImage p;
    p.result = cli::image_result(detect_stages(*net, img, d), kStages);
    p.result.seconds -= p.result.proposal_seconds;  // predict reports them apart
    const std::string stem =
        (std::filesystem::path(s.out_dir) / std::filesystem::path(path).stem()).string();
    std::filesystem::create_directories(s.out_dir);
    p.proposals = cli::save_rpn_pictures(*net, img, stem, d.proposals, show.anchors, show.proposals);
    return p;
  });
}

// ---- bench ---------------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const models::FasterRcnnDetectOptions& d,
              const std::vector<std::string>& paths, int64_t limit) {
  const auto net = cli::bench_detector<FasterRcnn, models::FasterRcnnConfig>(a, kDefaultModel, kProgram);
  return cli::bench_stages(a, paths, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, d); });
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"faster_rcnn: a Region Proposal Network + Fast R-CNN, four losses (lesson 05)"};
  cli::CommonArgs args;
  TrainOptions topt;
  ProposalOptions po;
  models::FasterRcnnDetectOptions dopt;
  Pictures show;
  bool no_recall = false;
  auto add_test_proposals = [&](cli::Command& sub) {
    sub.option("--pre-nms", dopt.proposals.pre_nms_top_n, "RPN boxes before NMS (test)").range(1, 1000000);
    sub.option("--post-nms", dopt.proposals.post_nms_top_n, "RPN proposals kept (test)").range(1, 100000);
  };
  auto add_detect = [&](cli::Command& sub, const char* what) {
    cli::add_detect_flags(sub, dopt.head.threshold, dopt.head.nms, what);
    add_test_proposals(sub);
  };

  cli::Command train = app.subcommand("train", "train end to end on the train scenes");
  cli::add_detector_train_flags(train, args, topt.start, topt.flip,
                                {kTrainDefaults.epochs, topt.images_per_batch, kTrainDefaults.lr});
  models::RpnConfig& rc = topt.model.rpn;
  models::FasterRcnnTrainingOptions& to = topt.train;
  train.option("--anchor-sizes", rc.anchor_sizes, "anchor sides in pixels (default 16,32,64)")
      .delimiter(',').range(4.0f, 1024.0f);
  train.option("--aspect-ratios", rc.aspect_ratios, "anchor height/width ratios (default 0.5,1,2)")
      .delimiter(',').range(0.1f, 10.0f);
  train.option("--rpn-channels", rc.channels, "width of the RPN's 3x3 conv").range(1, 4096);
  train.option("--rpn-positive-iou", to.rpn.positive_iou, "anchor IoU for an object (0.7)").range(0.0f, 1.0f);
  train.option("--rpn-negative-iou", to.rpn.negative_iou, "anchor IoU below which background (0.3)").range(0.0f, 1.0f);
  train.option("--rpn-batch", to.rpn.anchors_per_image, "anchors sampled per image (256)").range(1, 100000);
  train.option("--train-pre-nms", to.proposals.pre_nms_top_n, "RPN boxes before NMS (training)").range(1, 1000000);
  train.option("--train-post-nms", to.proposals.post_nms_top_n, "RPN proposals kept (training)").range(1, 100000);
  train.option("--rois", to.rois_per_image, "RoIs sampled per image for the head").range(1, 100000);
  train.option("--fg-fraction", to.fg_fraction, "foreground share of the RoIs").range(0.0f, 1.0f);
  train.option("--bg-lo", to.bg_iou_lo, "lowest IoU of a background RoI (0)").range(0.0f, 0.5f);
  train.flag("--roi-align", topt.model.roi_align, "RoIAlign instead of RoI max pooling");
  train.option("--pool", topt.model.fast_rcnn.pool, "RoI pooling grid side").range(1, 32);
  train.option("--hidden", topt.model.fast_rcnn.hidden, "fc6 / fc7 width").range(1, 16384);

  cli::DetectorCommands c;
  cli::add_detector_commands(app, args, c, "VOC AP@0.5, COCO AP and proposal recall on the test scenes",
                             "draw detections, objectness, anchors, proposals");
  cli::add_proposal_flags(c.eval, po);
  add_detect(c.eval, "lowest class score kept (default 0.05)");
  c.eval.flag("--no-recall", no_recall, "skip the proposal recall table (and Selective Search)");

  add_detect(c.predict, "lowest class score drawn (default 0.5)");
  c.predict.flag("--show-anchors", show.anchors, "draw the k anchors of the central position");
  c.predict.option("--show-proposals", show.proposals, "draw the first N RPN proposals").range(0, 100000);

  add_test_proposals(c.bench);

  const auto run_train = [&] {
    if (to.rpn.negative_iou > to.rpn.positive_iou)
      throw std::invalid_argument("--rpn-negative-iou is above --rpn-positive-iou");
    return cmd_train(args, topt);
  };
  return cli::run_detector_commands(app, argc, argv, args, train, c, {&dopt.head.threshold, 0.5f},
                                    {run_train, [&] { return cmd_eval(args, po, dopt, c.limit, !no_recall); },
                                     [&] { return cmd_predict(args, dopt, show, c.images); },
                                     [&] { return cmd_bench(args, dopt, c.images, c.limit); }});
}
