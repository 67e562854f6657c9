// What every trained detector's program shares (fast_rcnn, faster_rcnn, yolo, ssd,
// mask_rcnn), so that each program keeps only what its model adds: the flags that say
// where the weights start and which scenes train them, the two scene splits, train's
// frame around the model's own loss (DetectorTraining), and the eval / bench runners over
// one detector interface -- the program's detect, timed stage by stage (DetectorStages),
// as darknet's examples/detector.c serves every YOLO version.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "eval/detection_eval.h"
#include "lessons/common/cli.h"
#include "lessons/common/fit.h"
#include "lessons/common/model_file.h"
#include "lessons/common/pretrained.h"
#include "lessons/common/stage_bench.h"
#include "nn/module.h"

namespace dl::cli {

struct DetectorTrainFlags {
  std::string pretrained = kPretrainedModel;  // lesson 00's classifier, for "backbone.*"
  bool scratch = false;
  int64_t limit = 0;     // train scenes used (0: all)
  int val_images = 50;   // test scenes for the per-epoch mAP
};

// `train`'s common flags (--help showing `d`) and --resume, --pretrained / --scratch,
// --limit, --val-images, and --no-flip (clearing `flip`).
void add_detector_train_flags(Command& train, CommonArgs& a, DetectorTrainFlags& f, bool& flip,
                              const TrainDefaults& d = {});

struct DetectorScenes {
  DetectionDataset train;  // the first --limit train scenes
  DetectionDataset val;    // --val-images test scenes
};
// Throws FileError naming the folder when the train split holds no image.
DetectorScenes load_detector_scenes(const CommonArgs& a, const DetectorTrainFlags& f);

// ---- the detector interface ----------------------------------------------------------
// A program names its detector's stages once; its detect(image) (a StageRun: detections
// and the seconds of each stage, in this order) then serves eval, bench and training's
// validation alike.
struct DetectorStages {
  std::vector<std::string> names;   // bench's JSON keys
  std::vector<std::string> labels;  // bench's table rows
  std::vector<std::string> proposal_stages;  // the stages that make proposals ({}: none)
  std::string preset = "none";      // what makes them, as bench reports it ("rpn")
};

// eval's view of one image: every stage's seconds, and the proposal stages' share.
ImageResult image_result(const StageRun& r, const DetectorStages& s);
// evaluate_detector with detect on each scene's image.
DetectionEval evaluate_stages(const DetectionDataset& scenes, const DetectorStages& s,
                              const OwnStageDetect& detect);

// Faster R-CNN's six stages, in FasterRcnnStageTimes::in_order's order, the RPN and the
// proposal layer being the proposals' time; `names` and `labels` append what a model built
// on it adds (Mask R-CNN's branches).
DetectorStages faster_rcnn_stages(const std::vector<std::string>& names = {},
                                  const std::vector<std::string>& labels = {});

// ---- train's frame ---------------------------------------------------------------------
// A detector's `train` in the lecture's order, with this frame around its own model and
// loss:
//   DetectorTraining run(a, kDefaultModel, kTrainDefaults);  // model file locked, defaults, clock
//   scenes, model, batch_loss                                 // the program's own
//   run.fit(model, steps_per_epoch, batch_loss, validate);    // cli::fit + validation each epoch
//   return run.finish(model, {...});                          // save, then the summary
struct TrainedDetector {  // what train saves beside the weights, besides what it measured
  std::string program, init;  // init: where the weights started
  std::string config_json;
  std::vector<std::string> class_names;
  std::string train_args_json;
  size_t val_images = 0;
  double proposal_seconds = -1;  // Selective Search before training (fast_rcnn); -1: none
  std::string val_set = "test scenes";  // what the validation images are, for the summary
};

class DetectorTraining {
 public:
  // TrainStart: the model file locked, the program's train defaults in `a` (which must
  // outlive this), the clock.
  DetectorTraining(CommonArgs& a, const std::string& default_model, const TrainDefaults& d);

  // cli::fit with detector_fit_options; at each epoch's end `epoch_metrics` adds the
  // program's own numbers, then `validate` runs with the model in eval mode (dropout off)
  // and its VOC mAP@0.5 is logged as val_map50 (its mask AP as val_mask_ap when
  // `mask_ap`).
  void fit(nn::Module& model, int64_t steps_per_epoch,
           const std::function<StepLosses(int, int64_t, int64_t)>& batch_loss,
           const std::function<DetectionEval()>& validate,
           const std::function<void(EpochLog&)>& epoch_metrics = nullptr, bool mask_ap = false);

  // save_training_run with the model's config, class names, training arguments and
  // last validation mAP in the metadata, then the summary: one JSON line with --json,
  // else two lines of text.
  int finish(nn::Module& model, const TrainedDetector& t) const;

  const TrainStart start;

 private:
  const CommonArgs& a_;
  std::vector<EpochLog> logs_;
  double val_map50_ = 0, train_seconds_ = 0;
};

// fit's options for a detector: its optimizer defaults (AdamW), a.epochs of
// `steps_per_epoch` steps at a.lr, resume points beside model_path (--resume).
FitOptions detector_fit_options(const CommonArgs& a, int64_t steps_per_epoch, nn::Module& model,
                                const std::string& model_path);


// ---- eval and bench --------------------------------------------------------------------
// eval: the first `limit` test scenes (0: all) through detect, evaluated.
struct DetectorTest {
  DetectionDataset scenes;
  DetectionEval e;
};
DetectorTest test_detector(const CommonArgs& a, int64_t limit, const DetectorStages& s,
                           const OwnStageDetect& detect);
// eval's output: with --json / --report the evaluation's JSON with `extra`'s keys added
// (returns true when --json took the place of the text), else the per-class tables
// (false: the program prints its summary line after them).
bool report_detector_test(const CommonArgs& a, const DetectorTest& t,
                          const nlohmann::json& extra = nlohmann::json::object());

// bench: detect on bench_images (10 test scenes unless IMAGE... or --limit), stage by
// stage, as a table or JSON.
int bench_stages(const CommonArgs& a, const std::vector<std::string>& paths, int64_t limit,
                 const DetectorStages& s, const OwnStageDetect& detect);

// eval (--limit, --report), predict (IMAGE..., required; --report) and bench (--limit,
// IMAGE...), each with the common flags; the program adds its own detection flags to them.
struct DetectorCommands {
  Command eval, predict, bench;
  int64_t limit = 0;                // eval / bench: this many test scenes
  std::vector<std::string> images;  // predict / bench
};
void add_detector_commands(CommandLine& app, CommonArgs& a, DetectorCommands& c,
                           const std::string& eval_help, const std::string& predict_help);

// --threshold (the lowest class score kept; `what` says which and its default) and --nms
// (the per-class NMS IoU) on one of those subcommands.
void add_detect_flags(Command& sub, float& threshold, double& nms, const std::string& what,
                      const std::string& nms_help = "per-class NMS IoU");

// What main does after building its flags: parses argv (--help and usage errors end
// there), applies --threads, then runs the subcommand given -- inside run_guarded, so an
// error ends as one line and exit 1. Before `predict`, the shared --threshold gets
// predict's default (drawing wants fewer, surer boxes than AP) unless it was given.
struct DetectorActions {
  std::function<int()> train, eval, predict, bench;
};
struct PredictThreshold {
  float* threshold;  // the detection options' --threshold
  float value;       // predict's default
};
int run_detector_commands(CommandLine& app, int argc, char** argv, const CommonArgs& args,
                          const Command& train, const DetectorCommands& c, PredictThreshold t,
                          const DetectorActions& run);

}  // namespace dl::cli
