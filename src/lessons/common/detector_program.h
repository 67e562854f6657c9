// What every trained detector's program shares (fast_rcnn, faster_rcnn, yolo, ssd and the
// ones after them), so that each program keeps only what its model adds: the flags that
// say where the weights start and which scenes train them, the two scene splits, the
// per-epoch validation mAP, and the eval / predict / bench subcommands' common flags.
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

// fit's options for a detector: its optimizer defaults (AdamW), a.epochs of
// `steps_per_epoch` steps at a.lr, resume points beside model_path (--resume).
FitOptions detector_fit_options(const CommonArgs& a, int64_t steps_per_epoch, nn::Module& model,
                                const std::string& model_path);

// The epoch-end validation: VOC mAP@0.5 of `detect` on `val`, with the model in eval
// mode (dropout off) and back in training mode after.
double validation_map(nn::Module& model, const DetectionDataset& val,
                      const std::function<ImageResult(const DetectionItem&)>& detect);

// bench's detector: its model file (bench_model_file: --model, or the default path when
// it exists), otherwise Config{}'s architecture with random weights -- timing does not
// depend on them -- in eval mode.
template <class Model, class Config>
std::unique_ptr<Model> bench_detector(const CommonArgs& a, const std::string& default_model,
                                      const std::string& program) {
  if (const std::string path = bench_model_file(a, default_model); !path.empty())
    return load_detector<Model, Config>(path, program);
  Rng rng(a.seed);
  auto net = std::make_unique<Model>(Config{}, rng);
  net->eval();
  return net;
}

// eval (--limit, --report), predict (IMAGE..., required; --report) and bench (--limit,
// IMAGE...), each with the common flags; the program adds its own detection flags to them.
struct DetectorCommands {
  Command eval, predict, bench;
  int64_t limit = 0;                // eval / bench: this many test scenes
  std::vector<std::string> images;  // predict / bench
};
void add_detector_commands(CommandLine& app, CommonArgs& a, DetectorCommands& c,
                           const std::string& eval_help, const std::string& predict_help);

}  // namespace dl::cli
