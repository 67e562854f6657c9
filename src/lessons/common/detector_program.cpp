#include "lessons/common/detector_program.h"

#include "lessons/common/detection_eval.h"
#include "lessons/common/report.h"
#include "util/files.h"

namespace dl::cli {

void add_detector_train_flags(Command& train, CommonArgs& a, DetectorTrainFlags& f, bool& flip,
                              const TrainDefaults& d) {
  add_train_flags(train, a, d);
  add_pretrained_flags(train, f.pretrained, f.scratch);
  train.option("--limit", f.limit, "use this many train scenes only").range(int64_t(1), int64_t(10000000));
  train.option("--val-images", f.val_images, "test scenes for the per-epoch mAP").range(1, 100000);
  train.flag("!--no-flip", flip, "no horizontal flipping");
}

DetectorScenes load_detector_scenes(const CommonArgs& a, const DetectorTrainFlags& f) {
  DetectorScenes s{load_detection_dataset(scenes_split_dir(a, "train"), f.limit),
                   load_detection_dataset(scenes_split_dir(a, "test"), f.val_images)};
  if (s.train.items.empty()) throw FileError(s.train.dir, "the training set has no images");
  return s;
}

FitOptions detector_fit_options(const CommonArgs& a, int64_t steps_per_epoch, nn::Module& model,
                                const std::string& model_path) {
  FitOptions fo;
  fo.epochs = a.epochs;
  fo.steps_per_epoch = steps_per_epoch;
  fo.quiet = a.quiet;
  fo.lr = a.lr;
  fo.resume = {&model, model_path, a.resume};
  return fo;
}

double validation_map(nn::Module& model, const DetectionDataset& val,
                      const std::function<ImageResult(const DetectionItem&)>& detect) {
  model.eval();
  const double map = evaluate_detector(val, detect).voc_map50;
  model.train();
  return map;
}

void add_detector_commands(CommandLine& app, CommonArgs& a, DetectorCommands& c,
                           const std::string& eval_help, const std::string& predict_help) {
  c.eval = app.subcommand("eval", eval_help);
  add_common_flags(c.eval, a);
  c.eval.option("--limit", c.limit, "evaluate this many scenes only").range(int64_t(1), int64_t(10000000));
  add_report_flag(c.eval, a);

  c.predict = app.subcommand("predict", predict_help);
  add_common_flags(c.predict, a);
  c.predict.option("images", c.images, "PNG/JPEG/BMP files").required();
  add_report_flag(c.predict, a);
  add_ground_truth_flag(c.predict, a);

  c.bench = app.subcommand("bench", "seconds per image by stage");
  add_common_flags(c.bench, a);
  c.bench.option("--limit", c.limit, "test scenes to time when no IMAGE is given (default 10)")
      .range(int64_t(1), int64_t(100000));
  c.bench.option("images", c.images, "PNG/JPEG/BMP files (default: test scenes)");
}

}  // namespace dl::cli
