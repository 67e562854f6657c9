// Lesson 07: Mask R-CNN (He, Gkioxari, Dollár, Girshick, ICCV 2017) -- instance
// segmentation. Faster R-CNN (lesson 05) gains a third branch on each RoI: RoIAlign
// 14 x 14 and a small FCN that predicts a 28 x 28 mask per class; per-class sigmoid,
// binary cross-entropy on the ground-truth class's mask only.
//   bin/mask_rcnn train [--init FILE | --no-init]   from lesson 05's faster_rcnn model (all
//                             of it: backbone, RPN, box head), the mask head new; joint
//                             fine-tuning with the five losses. --roi-pool: the mask
//                             branch pools with RoI max pooling (Table 2c's ablation)
//   bin/mask_rcnn eval        box AP (VOC AP@0.5, COCO) and mask AP (COCO segm)
//   bin/mask_rcnn predict IMAGE...   translucent masks with class and score (PNG + JSON
//                             with COCO RLE segmentations); --show-sampling: RoI pooling's
//                             cells beside RoIAlign's sample points on the best detection
//   bin/mask_rcnn bench       seconds per image: Faster R-CNN's stages + the mask branch's
//   ... --keypoints           the keypoint branch on the pose figures instead (§5;
//                             lessons/common/keypoint_commands.h)
#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/batching.h"
#include "data/instance_masks.h"
#include "eval/detection_eval.h"
#include "image/image.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/detector_program.h"
#include "lessons/common/fit.h"
#include "lessons/common/keypoint_commands.h"
#include "lessons/common/model_file.h"
#include "lessons/common/predict_with_proposals.h"
#include "lessons/common/pretrained.h"
#include "lessons/common/report.h"
#include "lessons/common/roi_sampling_picture.h"
#include "lessons/common/stage_bench.h"
#include "models/mask_rcnn.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
using models::MaskRcnn;

namespace {

const char* kProgram = "mask_rcnn";
const char* kDefaultModel = "data/models/mask_rcnn.safetensors";
const cli::TrainDefaults kTrainDefaults{4, -1, 1e-3f};  // --batch: TrainOptions::images_per_batch
const char* kFasterRcnnModel = "data/models/faster_rcnn.safetensors";

std::unique_ptr<MaskRcnn> load(const std::string& path, std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<MaskRcnn, models::MaskRcnnConfig>(path, kProgram, classes);
}

struct TrainOptions {
  std::string init = kFasterRcnnModel;  // a faster_rcnn model, or "" (--no-init)
  cli::DetectorTrainFlags start;  // --pretrained / --scratch apply with --no-init
  bool no_init = false, flip = true;
  int images_per_batch = 2;
  models::MaskRcnnTrainingOptions train;
  models::MaskRcnnConfig model;
};

// The detector as eval, bench and the validation see it: detections and stage times, the
// RPN (head + proposal layer) being the proposals' time.
const cli::DetectorStages kStages = cli::faster_rcnn_stages({"mask_roi_align", "mask_head", "paste_masks"},
                                                            {"mask RoIAlign", "mask head", "paste masks"});
cli::StageRun detect_stages(MaskRcnn& net, const Image& img, const models::MaskRcnnDetectOptions& d) {
  models::MaskRcnnStageTimes st;
  cli::StageRun r;
  r.detections = net.detect(img, d, &st);
  r.seconds = st.faster.in_order();
  r.seconds.insert(r.seconds.end(), {st.mask_pool, st.mask_head, st.paste});
  r.proposals = d.faster.proposals.post_nms_top_n;
  return r;
}

// ---- train ----------------------------------------------------------------------------
int cmd_train(cli::CommonArgs a, TrainOptions t) {
  cli::DetectorTraining run(a, kDefaultModel, kTrainDefaults);
  if (a.batch > 0) t.images_per_batch = a.batch;

  // 1. data: the scenes with every object's mask
  const cli::DetectorScenes scenes = cli::load_detector_scenes(a, t.start);
  const DetectionDataset &train = scenes.train, &val = scenes.val;
  const std::vector<std::vector<Mask>> masks = load_instance_masks(train);

  // 2. model: lesson 05's Faster R-CNN as trained (its own architecture), a new mask head
  models::MaskRcnnConfig cfg = t.model;
  if (!t.no_init) {
    cfg.faster_rcnn = cli::read_model_config_as<models::FasterRcnnConfig>(t.init, "faster_rcnn");
    if (cli::read_model_names(t.init, "classes", cfg.classes()) != train.class_names)
      throw FileError(t.init, "its classes are not the training scenes' classes");
  }
  cfg.faster_rcnn.fast_rcnn.num_classes = static_cast<int>(train.class_names.size()) + 1;
  Rng rng(a.seed);
  MaskRcnn model(cfg, rng);
  std::string init;
  if (t.no_init) {
    init = cli::start_from_pretrained(t.start.pretrained, t.start.scratch, model, a.quiet);
  } else {
    const nn::LoadReport r = nn::load_checkpoint_prefix(t.init, model, "", "faster_rcnn.");
    init = t.init;
    if (!a.quiet) fmt::print(stderr, "faster_rcnn: {}\n", r.str());
  }

  // 3. the multi-task loss (§3): Faster R-CNN's four + L_mask, one backward pass
  EpochBatches batches(static_cast<int64_t>(train.items.size()), t.images_per_batch, a.seed);
  auto batch_loss = [&](int epoch, int64_t s, int64_t global) {
    const std::vector<int64_t> idx = batches.step(epoch, s);
    Rng step_rng = Rng(a.seed).fork(1000000 + static_cast<uint64_t>(global));
    const models::MaskBatch b = models::make_mask_batch(train, masks, idx, t.flip, step_rng);
    const models::MaskRcnnLoss L = model.losses(b, t.train, step_rng);
    cli::StepLosses out;
    out.images = t.images_per_batch;
    out.total = L.total;
    out.parts = {{"rpn_cls", L.faster.rpn_objectness.item()}, {"rpn_box", L.faster.rpn_box.item()},
                 {"cls_loss", L.faster.classification.item()},
                 {"box_loss", L.faster.localization.item()}, {"mask_loss", L.mask.item()}};
    return out;
  };
  run.fit(
      model, batches.steps_per_epoch(), batch_loss,
      [&] { return cli::evaluate_stages(val, kStages, [&](const Image& img) { return detect_stages(model, img, {}); }); },
      nullptr, /*mask_ap=*/true);

  // 4. save
  const json args = {{"epochs", a.epochs}, {"images_per_batch", t.images_per_batch},
                     {"rois_per_image", t.train.faster.rois_per_image},
                     {"mask_rois_per_image", t.train.mask_rois_per_image},
                     {"mask_weight", t.train.mask_weight}, {"flip", t.flip}, {"lr", a.lr},
                     {"seed", a.seed}, {"init", init}, {"train_images", train.items.size()}};
  return run.finish(model, {kProgram, init, cfg.to_json(), train.class_names, args.dump(), val.items.size()});
}

// ---- eval ------------------------------------------------------------------------------
int cmd_eval(const cli::CommonArgs& a, const models::MaskRcnnDetectOptions& d, int64_t limit) {
  std::unique_ptr<MaskRcnn> net = load(a.model.empty() ? kDefaultModel : a.model);
  const cli::DetectorTest t =
      cli::test_detector(a, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, d); });
  const DetectionEval& e = t.e;
  const double n = static_cast<double>(t.scenes.items.size());
  const bool align = !net->config.mask_head.roi_pool;
  if (cli::report_detector_test(a, t, {{"seconds_per_image_without_proposals", (e.seconds - e.proposal_seconds) / n},
                                       {"mask_pooling", align ? "roi_align" : "roi_pool"}}))
    return 0;
  fmt::print("box AP {:.3f}, mask AP {:.3f} (mask branch: {}); {} images, {:.4f} s/image\n",
             e.coco.stats[0], e.has_masks ? e.coco_segm.stats[0] : 0.0,
             align ? "RoIAlign" : "RoI pooling", t.scenes.items.size(), e.seconds / n);
  return 0;
}

// ---- predict -----------------------------------------------------------------------------
int cmd_predict(const cli::CommonArgs& a, const models::MaskRcnnDetectOptions& d,
                bool show_sampling, const std::vector<std::string>& images) {
  std::vector<std::string> classes;
  std::unique_ptr<MaskRcnn> net = load(a.model.empty() ? kDefaultModel : a.model, &classes);
  const cli::PredictSettings s{kProgram, cli::predictions_dir(a), classes, "class score",
                               d.faster.head.threshold, a};
  return cli::predict_images(images, s, [&](const std::string& path, const Image& img) {
    const cli::StageRun r = detect_stages(*net, img, d);
    cli::PredictedImage p;
    p.result = cli::image_result(r, kStages);
    p.result.seconds -= p.result.proposal_seconds;  // predict reports them apart
    p.proposals = r.proposals;
    if (show_sampling) {  // the best detection's box, else the image's central quarter
      const auto& dets = p.result.detections;
      const Box roi = dets.empty() ? Box{img.width / 4.0f, img.height / 4.0f, img.width * 0.75f,
                                         img.height * 0.75f}
                                   : dets[0].box;
      std::filesystem::create_directories(s.out_dir);
      save_image((std::filesystem::path(s.out_dir) / std::filesystem::path(path).stem()).string() +
                     ".roi_sampling.png",
                 cli::roi_sampling_picture(img, roi, models::kBackboneStride,
                                           net->config.mask_head.pool, models::kMaskSamplingRatio));
    }
    return p;
  });
}

// ---- bench ---------------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const models::MaskRcnnDetectOptions& d,
              const std::vector<std::string>& paths, int64_t limit) {
  const auto net = cli::bench_detector<MaskRcnn, models::MaskRcnnConfig>(a, kDefaultModel, kProgram);
  return cli::bench_stages(a, paths, limit, kStages, [&](const Image& img) { return detect_stages(*net, img, d); });
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"mask_rcnn: Faster R-CNN + a mask branch, instance segmentation (lesson 07)"};
  cli::CommonArgs args;
  TrainOptions topt;
  models::MaskRcnnDetectOptions dopt;
  auto add_detect = [&](cli::Command& sub, const char* what) {
    cli::add_detect_flags(sub, dopt.faster.head.threshold, dopt.faster.head.nms, what);
    sub.option("--post-nms", dopt.faster.proposals.post_nms_top_n, "RPN proposals kept").range(1, 100000);
    sub.option("--max-masks", dopt.max_masks, "masks for the best N detections").range(0, 100000);
    sub.option("--mask-threshold", dopt.mask_threshold, "mask probability of an object pixel (0.5)")
        .range(0.0f, 1.0f);
  };

  cli::Command train = app.subcommand("train", "fine-tune Faster R-CNN with a mask branch");
  cli::add_detector_train_flags(train, args, topt.start, topt.flip,
                                {kTrainDefaults.epochs, topt.images_per_batch, kTrainDefaults.lr});
  models::MaskRcnnTrainingOptions& to = topt.train;
  models::MaskHeadConfig& mh = topt.model.mask_head;
  train.option("--init", topt.init, "faster_rcnn model to start from (its architecture too)");
  train.flag("--no-init", topt.no_init, "no faster_rcnn model: the backbone from --pretrained");
  train.option("--rois", to.faster.rois_per_image, "RoIs sampled per image for the box head").range(1, 100000);
  train.option("--mask-rois", to.mask_rois_per_image, "positive RoIs per image for the mask head").range(1, 100000);
  train.option("--mask-weight", to.mask_weight, "weight of the mask loss").range(0.0f, 100.0f);
  train.option("--mask-channels", mh.channels, "width of the mask head's convs").range(1, 1024);
  train.option("--mask-convs", mh.convs, "3x3 convs of the mask head").range(0, 16);
  train.option("--mask-pool", mh.pool, "RoIAlign side (masks are twice that)").range(1, 32);
  train.flag("--roi-pool", mh.roi_pool, "mask branch pools with RoI max pooling (Table 2c)");

  cli::DetectorCommands c;
  cli::add_detector_commands(app, args, c, "box AP and mask AP on the test scenes",
                             "draw masks, boxes, classes and scores");
  add_detect(c.eval, "lowest class score kept (default 0.05)");
  add_detect(c.predict, "lowest class score drawn (default 0.5)");
  bool show_sampling = false;
  c.predict.flag("--show-sampling", show_sampling,
                 "draw RoI pooling's cells and RoIAlign's sample points on the best detection");
  add_detect(c.bench, "lowest class score kept (default 0.05)");
  cli::KeypointFlags kp;
  cli::add_keypoint_flags(train, c.eval, c.predict, c.bench, kp);

  // The mask branch's flags mean nothing to the keypoint model: refused, not ignored.
  const auto refuse_mask_flags = [&](const cli::Command& sub, std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (kp.on && sub.count(n)) throw std::invalid_argument(std::string(n) + " is for masks, not --keypoints");
  };
  const auto run_train = [&] {
    if (train.count("--init") && topt.no_init)
      throw std::invalid_argument("--init and --no-init exclude each other");
    refuse_mask_flags(train, {"--mask-rois", "--mask-weight", "--mask-channels", "--mask-convs", "--mask-pool",
                              "--roi-pool"});
    if (kp.on)
      return cli::keypoint_train(args, kp, {topt.no_init ? "" : topt.init, topt.start, topt.flip,
                                            topt.images_per_batch, to.faster.rois_per_image});
    return cmd_train(args, topt);
  };
  return cli::run_detector_commands(
      app, argc, argv, args, train, c, {&dopt.faster.head.threshold, 0.5f},
      {run_train,
       [&] {
         refuse_mask_flags(c.eval, {"--max-masks", "--mask-threshold"});
         return kp.on ? cli::keypoint_eval(args, dopt.faster, c.limit) : cmd_eval(args, dopt, c.limit);
       },
       [&] {
         refuse_mask_flags(c.predict, {"--max-masks", "--mask-threshold", "--show-sampling"});
         return kp.on ? cli::keypoint_predict(args, dopt.faster, c.images)
                      : cmd_predict(args, dopt, show_sampling, c.images);
       },
       [&] {
         refuse_mask_flags(c.bench, {"--max-masks", "--mask-threshold"});
         return kp.on ? cli::keypoint_bench(args, dopt.faster, c.images, c.limit)
                      : cmd_bench(args, dopt, c.images, c.limit);
       }});
}
