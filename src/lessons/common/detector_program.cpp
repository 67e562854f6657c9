#include "lessons/common/detector_program.h"

#include <fmt/core.h>

#include <algorithm>

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

ImageResult image_result(const StageRun& r, const DetectorStages& s) {
  ImageResult out{r.detections, 0.0, 0.0};
  for (size_t i = 0; i < r.seconds.size(); ++i) {
    out.seconds += r.seconds[i];
    if (std::find(s.proposal_stages.begin(), s.proposal_stages.end(), s.names.at(i)) !=
        s.proposal_stages.end())
      out.proposal_seconds += r.seconds[i];
  }
  return out;
}

DetectorStages faster_rcnn_stages(const std::vector<std::string>& names,
                                  const std::vector<std::string>& labels) {
  DetectorStages s{{"backbone", "rpn", "proposal_layer", "roi_pool", "head", "nms"},
                   {"backbone", "RPN head", "proposals", "RoI pool", "FC head", "NMS"},
                   {"rpn", "proposal_layer"},
                   "rpn"};
  s.names.insert(s.names.end(), names.begin(), names.end());
  s.labels.insert(s.labels.end(), labels.begin(), labels.end());
  return s;
}

DetectionEval evaluate_stages(const DetectionDataset& scenes, const DetectorStages& s,
                              const OwnStageDetect& detect) {
  return evaluate_detector(
      scenes, [&](const DetectionItem& item) { return image_result(detect(item.image), s); });
}

DetectorTraining::DetectorTraining(CommonArgs& a, const std::string& default_model,
                                   const TrainDefaults& d)
    : start(a, default_model, d), a_(a) {}

void DetectorTraining::fit(nn::Module& model, int64_t steps_per_epoch,
                           const std::function<StepLosses(int, int64_t, int64_t)>& batch_loss,
                           const std::function<DetectionEval()>& validate,
                           const std::function<void(EpochLog&)>& epoch_metrics, bool mask_ap) {
  auto epoch_end = [&](EpochLog& log) {
    if (epoch_metrics) epoch_metrics(log);
    model.eval();
    const DetectionEval e = validate();
    model.train();
    val_map50_ = e.voc_map50;
    log.metrics["val_map50"] = val_map50_;
    if (mask_ap) log.metrics["val_mask_ap"] = e.has_masks ? e.coco_segm.stats[0] : 0.0;
  };
  const auto t0 = Clock::now();
  logs_ = cli::fit(model.parameters(), detector_fit_options(a_, steps_per_epoch, model, start.model_path),
                   batch_loss, epoch_end);
  train_seconds_ = seconds_since(t0);
}

int DetectorTraining::finish(nn::Module& model, const TrainedDetector& t) const {
  using nlohmann::json;
  const double total_seconds = seconds_since(start.time);
  const bool proposals = t.proposal_seconds >= 0;
  json timings = {{"train_seconds", total_seconds}, {"training_loop_seconds", train_seconds_}};
  if (proposals) timings["proposal_seconds"] = t.proposal_seconds;
  const std::string stem = save_training_run(
      start.model_path, model,
      {{"config", t.config_json},
       {"classes", json(t.class_names).dump()},
       {"train_args", t.train_args_json},
       {"val_map50", fmt::format("{:.4f}", val_map50_)}},
      logs_, t.program + " (" + t.init + ")", timings.dump(2) + "\n");
  if (a_.json) {
    json j = {{"model", start.model_path}, {"val_map50", val_map50_},
              {"val_images", t.val_images}, {"train_seconds", train_seconds_},
              {"total_seconds", total_seconds}, {"epochs", a_.epochs},
              {"final_loss", logs_.empty() ? 0.0 : logs_.back().train_loss},
              {"first_loss", logs_.empty() ? 0.0 : logs_.front().train_loss},
              {"init", t.init}};
    if (proposals) j["proposal_seconds"] = t.proposal_seconds;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("val VOC mAP@0.5 {:.1f}% on {} {} after {} epochs; training {:.1f} s{}\n",
               100 * val_map50_, t.val_images, t.val_set, a_.epochs, train_seconds_,
               proposals ? fmt::format(" (+ {:.1f} s proposals/loading)", total_seconds - train_seconds_)
                         : std::string());
    fmt::print("saved {} (+ {}.csv, {}.svg)\n", start.model_path, stem, stem);
  }
  return 0;
}

DetectorTest test_detector(const CommonArgs& a, int64_t limit, const DetectorStages& s,
                           const OwnStageDetect& detect) {
  DetectorTest t;
  t.scenes = load_detection_dataset(scenes_split_dir(a, "test"), limit);
  t.e = evaluate_stages(t.scenes, s, detect);
  return t;
}

bool report_detector_test(const CommonArgs& a, const DetectorTest& t, const nlohmann::json& extra) {
  if (result_wanted(a)) {
    nlohmann::json j = detection_eval_json(t.e, t.scenes.class_names);
    j.update(extra);
    if (output_result(a, "eval", j)) return true;
  }
  print_detection_eval(t.e, t.scenes.class_names);
  return false;
}

int bench_stages(const CommonArgs& a, const std::vector<std::string>& paths, int64_t limit,
                 const DetectorStages& s, const OwnStageDetect& detect) {
  const StageBench b =
      time_own_stages(bench_images(a, paths, limit, 10), s.names, s.proposal_stages, s.preset, detect);
  return report_stage_bench(b, a.json, s.labels);
}

void add_detector_commands(CommandLine& app, CommonArgs& a, DetectorCommands& c,
                           const std::string& eval_help, const std::string& predict_help) {
  c.eval = add_command(app, a, "eval", eval_help, true);
  c.eval.option("--limit", c.limit, "evaluate this many scenes only").range(int64_t(1), int64_t(10000000));

  c.predict = add_command(app, a, "predict", predict_help, true);
  c.predict.option("images", c.images, "PNG/JPEG/BMP files").required();
  add_ground_truth_flag(c.predict, a);

  c.bench = add_command(app, a, "bench", "seconds per image by stage");
  c.bench.option("--limit", c.limit, "test scenes to time when no IMAGE is given (default 10)")
      .range(int64_t(1), int64_t(100000));
  c.bench.option("images", c.images, "PNG/JPEG/BMP files (default: test scenes)");
}

void add_detect_flags(Command& sub, float& threshold, double& nms, const std::string& what,
                      const std::string& nms_help) {
  sub.option("--threshold", threshold, what).range(0.0f, 1.0f);
  sub.option("--nms", nms, nms_help).range(0.0, 1.0);
}

int run_detector_commands(CommandLine& app, int argc, char** argv, const CommonArgs& args,
                          const Command& train, const DetectorCommands& c, PredictThreshold t,
                          const DetectorActions& run) {
  if (const int rc = parse(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(args.threads);
    if (train) return run.train();
    if (c.eval) return run.eval();
    if (c.predict) {
      if (c.predict.count("--threshold") == 0) *t.threshold = t.value;
      return run.predict();
    }
    return run.bench();
  });
}

}  // namespace dl::cli
