// Lesson 04, part 1: R-CNN (Girshick et al., "Rich feature hierarchies for accurate
// object detection and semantic segmentation", CVPR 2014). Detection as "recognition
// using regions" (the model: src/models/rcnn.h):
//   1. ~2000 category-independent region proposals per image (Selective Search, sec. 2.1)
//   2. each proposal warped to the CNN's fixed input size with context padding (appendix A)
//   3. a CNN pretrained on classification, fine-tuned on warped proposals (IoU >= 0.5
//      with an object: that class; otherwise background; mini-batches of 32 positive and
//      96 background windows, sec. 2.3), gives a feature vector per region (fc7 there,
//      the penultimate layer here)
//   4. one linear SVM per class scores every region (positives: ground truth; negatives:
//      IoU < 0.3; hard-negative mining, sec. 2.3 and appendix B)
//   5. a class-specific ridge regressor moves each scored box (appendix C)
//   6. greedy non-maximum suppression per class (IoU 0.3)
// Steps 4-6 are shared with SPP-net: src/models/region_svm_head.h. Every region goes
// through the whole CNN on its own -- the cost the lecture's timing chart shows and
// that SPP-net and Fast R-CNN remove.
//
//   bin/rcnn train     fine-tune the CNN, train SVMs and box regressors, one checkpoint
//   bin/rcnn eval      VOC AP@0.5 per class, mAP and COCO AP on the test scenes
//   bin/rcnn predict IMAGE...   PNG with boxes + JSON
//   bin/rcnn bench [IMAGE...]   seconds per image: proposals / warping / CNN / SVM /
//                               regression / NMS
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "lessons/common/cli.h"
#include "lessons/common/model_file.h"
#include "lessons/common/proposal_options.h"
#include "lessons/common/region_detector_commands.h"
#include "lessons/common/region_training.h"
#include "lessons/common/stage_bench.h"
#include "models/rcnn.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;

namespace {

const char* kDefaultModel = "data/models/rcnn.safetensors";
const cli::TrainDefaults kTrainDefaults{8, 128, 3e-3f};
const char* kDefaultPretrained = "data/models/classify.safetensors";

// ---- options --------------------------------------------------------------------------
struct TrainOptions : cli::RegionTrainOptions {
  std::string pretrained = kDefaultPretrained;
  bool scratch = false;
  int hidden = 128, c3 = 32, input_size = 22, context = 2;
};

// ---- train: proposals -> fine-tuning -> features -> SVMs -> box regressors -------------
int cmd_train(cli::CommonArgs a, const TrainOptions& t, const ProposalOptions& po) {
  const cli::TrainStart start(a, kDefaultModel, kTrainDefaults);
  const std::string& model_path = start.model_path;
  const cli::Log log = cli::stderr_log(a.quiet);

  // 1. data, proposals (cached on disk) and labelled windows
  const cli::RegionTrainingData d = cli::load_region_training_data(a, t, po, log);

  // 2. the CNN: lesson 00's pretrained backbone, fine-tuned on warped proposals
  models::RcnnConfig cfg;
  cfg.cnn.num_classes = static_cast<int>(d.train.class_names.size()) + 1;
  cfg.cnn.hidden = t.hidden;
  cfg.cnn.c3 = t.c3;
  cfg.cnn.input_size = t.input_size;
  cfg.context = t.context;
  Rng rng(a.seed);
  models::RcnnModel model(cfg, rng);
  std::string init = "scratch";
  if (!t.scratch) {
    models::load_grey_backbone(t.pretrained, *model.cnn);
    init = t.pretrained;
  }
  // 3. fine-tuning on warped, randomly mirrored windows: 25% foreground (sec. 2.3)
  const cli::WindowFinetuning ft = cli::finetune_on_windows(
      model.cnn->parameters(), {model.cnn.get(), model_path, a.resume}, a, t, d,
      [&](bool test, int fg, int bg, Rng r) {
        return test ? models::warped_window_batch(cfg, d.test, d.test_windows, fg, bg, r)
                    : models::warped_window_batch(cfg, d.train, d.windows, fg, bg, r);
      },
      [&](const Var& crops, bool train) {
        model.cnn->train(train);
        return model.cnn->classify(crops);
      });

  // 4. features of every proposal and ground-truth box (the penultimate layer)
  cli::RegionHeadTraining h;
  const int D = cfg.feature_dim();
  const models::RegionTrainingFeatures f = cli::training_features(
      d, D,
      [&](size_t i, const std::vector<Box>& boxes, bool) {
        return models::region_features(model, d.train.items[i].image, boxes);
      },
      h, log);
  model.config.feature_scale = h.feature_scale;

  // 5. one linear SVM per class, then class-specific ridge box regressors
  cli::train_svms_and_regressors(a, t, d, f, model.head, h, log);
  const double train_seconds = seconds_since(start.time);

  // 6. save: CNN, SVMs and regressors in one file
  const json timing = {{"total", train_seconds},
                       {"proposals", d.proposal_seconds},
                       {"finetune", ft.seconds},
                       {"features", h.feature_seconds},
                       {"svm", h.svm_seconds},
                       {"regression", h.regression_seconds}};
  const std::string stem = cli::save_region_model(
      model_path, model, model.config.to_json(), d, h,
      cli::region_train_args(a, t, po, d, init, h), ft.logs,
      "rcnn fine-tuning on warped proposals (" + init + ")", train_seconds, timing);
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path},
                             {"test_window_accuracy", ft.test_accuracy},
                             {"seconds", timing},
                             {"train_seconds", train_seconds},
                             {"proposals_per_image", d.proposals_per_image()},
                             {"init", init}})
                           .dump());
  } else {
    fmt::print("trained in {:.1f} s: proposals {:.1f} s, fine-tuning {:.1f} s (test window "
               "accuracy {:.1f}%), features {:.1f} s, SVMs {:.1f} s, box regression {:.1f} s\n",
               train_seconds, d.proposal_seconds, ft.seconds, 100 * ft.test_accuracy,
               h.feature_seconds, h.svm_seconds, h.regression_seconds);
    fmt::print("saved {} (+ {}.csv, .svg, .train.json)\n", model_path, stem);
  }
  return 0;
}

// ---- eval / predict / bench (lessons/common/region_detector_commands.h) -----------------
// The stages after the proposals, as bench times them.
const std::vector<std::string> kStages = {"warping", "cnn", "svm", "regression", "nms"};

// One image's detections and the seconds of each of kStages.
cli::StageRun timed_detect(models::RcnnModel& m, const Image& img,
                           const std::vector<Box>& proposals,
                           const models::RegionDetectOptions& o) {
  models::RcnnTimes t;
  std::vector<Detection> dets = models::detect(m, img, proposals, o, &t);
  return {std::move(dets), {t.warping, t.cnn, t.head.svm, t.head.regression, t.head.nms}, {}};
}

// Where R-CNN's time goes.
int cmd_bench(const cli::CommonArgs& a, const ProposalOptions& po,
              const models::RegionDetectOptions& o, const cli::RegionDetectorCommands& c) {
  const auto model = cli::bench_detector<models::RcnnModel, models::RcnnConfig>(a, kDefaultModel, "rcnn");
  const cli::StageBench b = cli::run_region_bench(
      a, po, c, kStages,
      [&](const Image& img, const std::vector<Box>& p) { return timed_detect(*model, img, p, o); });
  return cli::report_stage_bench(b, a.json);
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"rcnn: R-CNN -- proposals, warped CNN features, SVMs, box regression (lesson 04)"};
  cli::CommonArgs args;
  TrainOptions topt;
  ProposalOptions po;
  po.min_side = 2;  // a crop is warped from at least 2 x 2 pixels
  cli::RegionDetectorCommands detect;

  cli::Command train = app.subcommand("train", "fine-tune the CNN, train the SVMs and box regressors");
  cli::add_train_flags(train, args, kTrainDefaults);
  cli::add_proposal_flags(train, po);
  train.option("--pretrained", topt.pretrained, "classify model whose backbone to start from");
  train.flag("--scratch", topt.scratch, "random initial weights instead of --pretrained");
  train.option("--hidden", topt.hidden, "feature dimension (the 'fc' layer's channels)").range(1, 4096);
  train.option("--neck-channels", topt.c3, "channels of the neck conv").range(1, 1024);
  train.option("--input-size", topt.input_size, "warped crop side S (4k + 14: 18, 22, 26, ...)")
      .range(18, 254);
  train.option("--context", topt.context, "context pixels around the box in the crop (R-CNN: 16 of 227)")
      .range(0, 100);
  cli::add_region_train_flags(train, topt);

  cli::add_region_detector_commands(app, args, po, detect);

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  if (train && (topt.input_size - 14) % 4 != 0) {
    fmt::print(stderr, "error: --input-size {}: must be 4k + 14 (18, 22, 26, 30, ...)\n",
               topt.input_size);
    return 2;
  }
  if (train && topt.context * 2 >= topt.input_size) {
    fmt::print(stderr, "error: --context {}: leaves no room for the box in a {}-pixel crop\n",
               topt.context, topt.input_size);
    return 2;
  }
  return cli::run_region_commands<models::RcnnModel, models::RcnnConfig>(
      args, po, detect, "rcnn", kDefaultModel, timed_detect, bool(train), [&] { return cmd_train(args, topt, po); },
      [&](const models::RegionDetectOptions& dopt) { return cmd_bench(args, po, dopt, detect); });
}
