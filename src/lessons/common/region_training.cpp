#include "lessons/common/region_training.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "lessons/common/detection_eval.h"
#include "lessons/common/progress.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::cli {

using json = nlohmann::json;

void add_region_train_flags(Command& train, RegionTrainOptions& o) {
  train.option("--steps-per-epoch", o.steps_per_epoch, "fine-tuning batches per epoch")
      .range(1, 1000000);
  train.option("--fg-fraction", o.fg_fraction, "foreground share of a batch (R-CNN 0.25)")
      .range(0.01f, 1.0f);
  train.option("--svm-c", o.svm_c, "SVM C (R-CNN 0.001 with features of mean norm 20)")
      .positive();
  train.option("--svm-rounds", o.svm_rounds, "hard-negative mining rounds after the first")
      .range(0, 100);
  train.option("--ridge-lambda", o.ridge_lambda, "box regression lambda (default 1000 * 9216 / hidden)")
      .non_negative();
  train.option("--limit", o.limit, "use this many train (and test) scenes only")
      .range(int64_t(1), int64_t(10000000));
}

Log stderr_log(bool quiet) {
  return [quiet](const std::string& s) {
    if (!quiet) fmt::print(stderr, "{}\n", s);
  };
}

RegionTrainingData load_region_training_data(const CommonArgs& a, const RegionTrainOptions& t,
                                             const ProposalOptions& po, const Log& log) {
  RegionTrainingData d;
  d.train = load_detection_dataset(scenes_split_dir(a, "train"), t.limit);
  d.test = load_detection_dataset(scenes_split_dir(a, "test"), t.limit);
  if (d.train.items.empty()) throw FileError(d.train.dir, "the training set has no images");
  const auto t0 = Clock::now();
  TaskProgress shown("proposals", int64_t(d.train.items.size() + d.test.items.size()), a.quiet);
  d.train_props = dataset_proposals(d.train, po, shown.callback());
  const auto test_props = dataset_proposals(d.test, po, shown.callback());
  d.proposal_seconds = seconds_since(t0);
  for (const auto& p : d.train_props) d.proposals += static_cast<int64_t>(p.size());
  log(fmt::format("proposals: {:.1f} per train image ({} preset, {:.1f} s incl. cache reads)",
                  d.proposals_per_image(), po.preset, d.proposal_seconds));
  d.windows = models::label_windows(d.train, d.train_props);
  d.test_windows = models::label_windows(d.test, test_props);
  if (d.windows.fg.empty()) throw FileError(d.train.dir, "no foreground windows (no objects?)");
  log(fmt::format("fine-tuning windows: {} foreground (IoU >= 0.5 or ground truth), {} background",
                  d.windows.fg.size(), d.windows.bg.size()));
  return d;
}

WindowFinetuning finetune_on_windows(const std::vector<Var>& params, const FitOptions::Resume& resume,
                                     const CommonArgs& a,
                                     const RegionTrainOptions& t, const RegionTrainingData& d,
                                     const WindowBatchFn& batch, const WindowLogitsFn& logits) {
  FitOptions o;
  o.epochs = a.epochs;
  o.steps_per_epoch = t.steps_per_epoch;
  o.quiet = a.quiet;
  o.lr = a.lr;
  o.weight_decay = 0.05f;
  o.resume = resume;
  const int fg = std::max(1, static_cast<int>(std::lround(a.batch * t.fg_fraction)));
  const int bg = std::max(0, a.batch - fg);
  // A fixed test sample for the per-epoch accuracy, 25% foreground like the batches.
  models::WindowBatch test;
  const bool have_test = !d.test_windows.fg.empty() && !d.test_windows.bg.empty();
  if (have_test) test = batch(true, 256, 768, Rng(12345));
  WindowFinetuning out;
  auto step = [&](int, int64_t, int64_t global) {
    const models::WindowBatch b = batch(false, fg, bg, Rng(a.seed).fork(1000000 + global));
    const models::WindowLoss L = models::window_loss(logits(Var(b.inputs), true), b.labels);
    return StepLosses{L.loss, {}, b.labels.numel(), L.correct};
  };
  auto epoch_end = [&](EpochLog& l) {
    if (!have_test) return;
    NoGradGuard g;
    const Tensor scores = logits(Var(test.inputs), false).value();
    out.test_accuracy = double(models::correct_windows(scores, test.labels)) / test.labels.numel();
    l.metrics["test_window_acc"] = out.test_accuracy;
  };
  const auto t0 = Clock::now();
  out.logs = fit(params, o, step, epoch_end);
  out.seconds = seconds_since(t0);
  return out;
}

models::RegionTrainingFeatures training_features(const RegionTrainingData& d, int D,
                                                 const models::RegionFeatureFn& features,
                                                 RegionHeadTraining& h, const Log& log) {
  const auto t0 = Clock::now();
  models::RegionTrainingFeatures f =
      models::region_training_features(d.train, d.train_props, D, features);
  h.feature_scale = f.scale;
  h.feature_seconds = seconds_since(t0);
  log(fmt::format("features: {} regions x {} dims in {:.1f} s (scale {:.3g} for mean norm 20)",
                  d.proposals, D, h.feature_seconds, f.scale));
  return f;
}

void train_svms_and_regressors(const CommonArgs& a, const RegionTrainOptions& t,
                               const RegionTrainingData& d,
                               const models::RegionTrainingFeatures& f,
                               const models::RegionSvmHead& head, RegionHeadTraining& h,
                               const Log& log) {
  auto t0 = Clock::now();
  h.svm_log = models::train_region_svms(d.train, d.train_props, f, t.svm_c, t.svm_rounds, a.seed,
                                        head, log);
  h.svm_seconds = seconds_since(t0);
  t0 = Clock::now();
  const int D = static_cast<int>(head.svm_weight->size(1));
  h.lambda = t.ridge_lambda >= 0 ? t.ridge_lambda : models::default_ridge_lambda(D);
  h.bbox_log = models::train_region_regressors(d.train, d.train_props, f, h.lambda, head);
  h.regression_seconds = seconds_since(t0);
}

json region_train_args(const CommonArgs& a, const RegionTrainOptions& t, const ProposalOptions& po,
                       const RegionTrainingData& d, const std::string& init,
                       const RegionHeadTraining& h) {
  return {{"epochs", a.epochs},          {"batch", a.batch},
          {"lr", a.lr},                  {"seed", a.seed},
          {"init", init},                {"train_images", d.train.items.size()},
          {"steps_per_epoch", t.steps_per_epoch}, {"fg_fraction", t.fg_fraction},
          {"preset", po.preset},         {"max_proposals", po.max_proposals},
          {"svm_c", t.svm_c},            {"svm_rounds", t.svm_rounds},
          {"ridge_lambda", h.lambda}};
}

std::string save_region_model(const std::string& path, nn::Module& model,
                              const std::string& config_json, const RegionTrainingData& d,
                              const RegionHeadTraining& h, const json& args,
                              const std::vector<EpochLog>& logs, const std::string& title,
                              double train_seconds, const json& timing) {
  return save_training_run(path, model,
                           {{"config", config_json},
                            {"classes", json(d.train.class_names).dump()},
                            {"train_args", args.dump()},
                            {"svm_mining", h.svm_log.dump()},
                            {"bbox_examples", h.bbox_log.dump()}},
                           logs, title,
                           json({{"train_seconds", train_seconds}, {"stages", timing}}).dump(2) +
                               "\n");
}

}  // namespace dl::cli
