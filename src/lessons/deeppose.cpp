// Lesson 02: human pose estimation as regression (Toshev & Szegedy, DeepPose, CVPR
// 2014). Stage 1 regresses the 14 joints' (x, y) from the whole image; every further
// stage crops a window around each joint of the previous stage's pose and regresses
// the joint's displacement inside that window (the cascade, §3.2).
//   bin/deeppose train [--stages S] [--sigma F] [--cascade-epochs E] [--cascade-lr LR]
//                      [--cascade-input PX] [--input PX] [--channels C...] [--hidden H]
//                      [--dropout P] [--neighbours R] [--facing-camera] [--no-flip]
//                      [--from MODEL]   (keep MODEL's stages, retrain/add the last one)
//   bin/deeppose eval              PCK@0.2, PDJ@0.2 per joint, PCP, pixel error, per stage
//                                  (also for the figures facing the camera / facing away)
//   bin/deeppose predict [--stage S] [--names] IMAGE...
//                                  skeleton drawn on the image, joints as JSON, per stage
//   bin/deeppose bench             images/s of each stage
// Data: `bin/datagen figures` train and test directories (see lessons/02).
// Model file: every stage in one checkpoint (parameters "stage1.*", "stage2.*", ...);
// its "config" metadata lists the stages (arch "deeppose" of "pose_regressor"s).
#include <fmt/core.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/figures.h"
#include "data/keypoint_dataset.h"
#include "eval/pose_eval.h"
#include "image/transforms.h"
#include "lessons/common/cascade_bench.h"
#include "lessons/common/cli.h"
#include "lessons/common/draw_pose.h"
#include "lessons/common/figure_splits.h"
#include "lessons/common/fit.h"
#include "lessons/common/model_file.h"
#include "lessons/common/report.h"
#include "models/deeppose.h"
#include "nn/checkpoint.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;
using models::Pose;

namespace {

const char* kDefaultModel = "data/models/deeppose.safetensors";
// lr 1.5e-3 / 3e-3 / 6e-3 / 1e-2: PCK 0.730 / 0.762 / 0.782 / 0.730 (64 px)
const cli::TrainDefaults kTrainDefaults{12, 32, 6e-3f};

struct TrainOptions {
  int stages = 2;
  float sigma = 1.5f;
  models::PoseRegressorConfig stage1 = models::stage1_config();
  models::PoseRegressorConfig cascade = models::refinement_config(2);  // of every stage >= 2
  int cascade_epochs = -1;
  float cascade_lr = 1e-3f;
  int crops_per_image = 4;
  // Each training window also labels the other joints in its central +-0.3 windows
  // (models::window_targets): 7.33 -> 6.86 px; radius 0.2 / 0.4 / 0.5 gave 7.15 / 7.01 /
  // 7.34 px, 0 (the paper's one joint per window) 7.33 px (lesson 02).
  float neighbours = 0.3f;
  bool flip = true;  // stage 1: mirror half of the images (left and right joints exchanged)
  int64_t limit = 0;
  // Relabel the training figures as if all faced the camera (an observer-centric
  // convention, data/keypoint_dataset.h). Off by default: the figures show which way
  // they face (src/data/figures.h), so the person's own left/right can be learnt.
  bool facing_camera = false;
  std::string from;  // a deeppose model whose stages are kept (trains only the stages after)
};

// ---- model files --------------------------------------------------------------------
std::unique_ptr<models::DeepPoseCascade> load_model(const std::string& path) {
  return cli::load_weights<models::DeepPoseCascade>(
      path, cli::read_model_config_as<models::DeepPoseConfig>(path, "deeppose"));
}

// ---- train -----------------------------------------------------------------------------
int cmd_train(cli::CommonArgs a, const TrainOptions& t) {
  const cli::TrainStart start(a, kDefaultModel, kTrainDefaults);
  const std::string& model_path = start.model_path;
  const int cascade_epochs = t.cascade_epochs >= 0 ? t.cascade_epochs : 3;

  cli::FigureSplits data = cli::load_figure_splits(a, t.limit);
  KeypointDataset &train = data.train, &test = data.test;
  const int64_t n = static_cast<int64_t>(train.items.size());
  if (t.facing_camera)
    for (auto& item : train.items) relabel_facing_camera(item.keypoints);

  models::DeepPoseConfig cfg = models::deeppose_config(t.stages, t.sigma, t.stage1, t.cascade);
  int kept = 0;  // --from: that model's stages before the last of --stages are kept
  if (!t.from.empty())
    kept = models::keep_stages(cfg, cli::read_model_config_as<models::DeepPoseConfig>(t.from, "deeppose"));
  Rng rng(a.seed);
  models::DeepPoseCascade model(cfg, rng);
  for (int s = 1; s <= kept; ++s)
    nn::load_checkpoint_prefix(t.from, model, fmt::format("stage{}.", s), fmt::format("stage{}.", s));
  if (!a.quiet) fmt::print(stderr, "model:\n{}", nn::summary(model));

  const models::StageSampling sampling{t.crops_per_image, cfg.sigma, t.neighbours, t.flip, a.seed};
  std::vector<PoseStageScores> final_scores;
  std::vector<double> stage_seconds;
  std::vector<Pose> prev_train;  // stage s-1's poses on the training set
  std::vector<std::vector<cli::EpochLog>> stage_logs;  // written with the model, once all stages trained
  const std::string stem = (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  const auto t0 = Clock::now();
  for (int s = 1; s <= t.stages; ++s) {
    models::PoseRegressor& net = *model.stages[s - 1];
    const int epochs = s <= kept ? 0 : s == 1 ? a.epochs : cascade_epochs;
    models::StageBatches batches(train, s, net.config.input_size, prev_train, sampling);
    if (s >= 2 && !a.quiet) {
      const models::DisplacementStats& st = batches.stats();
      fmt::print(stderr,
                 "stage {}: stage {}'s training-set error is {:.3f} predicted torso diameters "
                 "(rms per axis); mean predicted diameter {:.1f} px, window {:.1f} px\n",
                 s, s - 1, st.rms(), st.mean_diameter, cfg.sigma * st.mean_diameter);
    }
    const int64_t per_epoch = batches.per_epoch();
    // The refinement nets stall on a flat loss at stage 1's rate (measured): a smaller one.
    const cli::FitOptions fo{epochs, std::max<int64_t>(1, (per_epoch + a.batch - 1) / a.batch),
                             a.quiet, "adamw", s == 1 ? a.lr : t.cascade_lr, 1e-4f, 50};
    net.train();
    auto batch_loss = [&](int epoch, int64_t k, int64_t) {
      const models::PoseBatch b = batches.batch(epoch, k, a.batch);
      return cli::StepLosses{models::masked_l2(net(Var(b.x)), b), {}, b.x.size(0)};
    };
    PoseStageScores last;
    auto epoch_end = [&](cli::EpochLog& log) {
      last = score_poses(test, models::run_cascade(model, test, s).back());
      net.train();
      log.metrics["test_pck"] = last.pck.mean;
      log.metrics["test_pdj"] = last.pdj.mean;
      log.metrics["test_error_px"] = last.error.mean;
      log.metrics["test_error_front_px"] = last.error_front.mean;
      log.metrics["test_error_back_px"] = last.error_back.mean;
    };
    if (!a.quiet) fmt::print(stderr, "stage {}: {} samples/epoch, {} epochs\n", s, per_epoch, epochs);
    const auto ts = Clock::now();
    const auto logs = cli::fit(net.parameters(), fo, batch_loss, epoch_end);
    stage_seconds.push_back(seconds_since(ts));
    if (epochs == 0) last = score_poses(test, models::run_cascade(model, test, s).back());
    final_scores.push_back(last);
    stage_logs.push_back(logs);
    if (s < t.stages) prev_train = models::run_cascade(model, train, s).back();
  }
  const double seconds = seconds_since(t0);

  json args = {{"epochs", a.epochs},       {"cascade_epochs", cascade_epochs},
               {"batch", a.batch},         {"lr", a.lr},
               {"seed", a.seed},           {"stages", t.stages},
               {"sigma", t.sigma},         {"crops_per_image", t.crops_per_image},
               {"train_images", n},       {"from", t.from},
               {"facing_camera", t.facing_camera}, {"flip", t.flip},
               {"cascade_lr", t.cascade_lr},  {"neighbours", t.neighbours}};
  json per_stage = stage_scores_json(final_scores);
  // Logs only once every stage has trained: a stage that fails leaves the old model's logs.
  for (int s = 1; s <= t.stages; ++s)
    if (!stage_logs[s - 1].empty())
      cli::write_training_logs(s == 1 ? stem : fmt::format("{}.stage{}", stem, s), stage_logs[s - 1],
                               fmt::format("deeppose stage {}", s));
  nn::save_checkpoint(model_path, model,
                      {{"config", cfg.to_json()}, {"joints", json(train.joint_names).dump()},
                       {"train_args", args.dump()}, {"test_scores", per_stage.dump()}});
  // Timings stay out of the checkpoint, so a model file depends only on data and flags.
  for (size_t s = 0; s < per_stage.size(); ++s) per_stage[s]["seconds"] = stage_seconds[s];
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path}, {"seconds", seconds}, {"stages", per_stage}}).dump());
    return 0;
  }
  fmt::print("{}", format_stage_scores(final_scores, stage_seconds));
  fmt::print("trained in {:.1f} s; saved {} (+ {}.csv/.svg per stage)\n", seconds, model_path, stem);
  return 0;
}

// ---- eval ------------------------------------------------------------------------------
int cmd_eval(const cli::CommonArgs& a) {
  const std::string path = a.model.empty() ? kDefaultModel : a.model;
  auto model = load_model(path);
  const KeypointDataset test = cli::load_figures_test(a, model->config.stages[0].num_joints);
  const auto poses = models::run_cascade(*model, test, static_cast<int>(model->stages.size()));
  const PoseCascadeEval ev = evaluate_cascade(test, poses);
  if (!cli::output_result(a, "eval", pose_eval_json(ev, test.joint_names)))
    fmt::print("{}", format_pose_eval(ev, test.joint_names));
  return 0;
}

// ---- predict ---------------------------------------------------------------------------
int cmd_predict(const cli::CommonArgs& a, const std::vector<std::string>& images, bool with_names,
                int draw_stage) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  auto model = load_model(model_path);
  const int K = model->config.stages[0].num_joints;
  const int stages = static_cast<int>(model->stages.size());
  if (draw_stage > stages)
    throw FileError(model_path, fmt::format("--stage {}: the model has {} stage(s)", draw_stage,
                                            stages));
  const int drawn = draw_stage > 0 ? draw_stage : stages;
  const auto names = cli::read_model_names(model_path, "joints", K);
  const std::string out_dir = cli::predictions_dir(a);
  const std::string suffix = draw_stage > 0 ? fmt::format(".stage{}", drawn) : "";
  json all = json::array();
  for (const auto& path : images) {
    const Image img = load_image(path, 3);
    std::vector<Pose> poses;  // one per stage
    for (const auto& stage : models::run_cascade(*model, {&img}, stages)) poses.push_back(stage[0]);
    const json entry = cli::save_pose_prediction(path, img, poses, drawn, suffix, names, with_names, out_dir);
    all.push_back(entry);
    if (!a.json) {
      fmt::print("{}: {} stages -> {}\n", path, poses.size(), entry["annotated"].get<std::string>());
      cli::print_pose(poses[drawn - 1], names);
    }
  }
  cli::output_result(a, "predict", all);
  return 0;
}

// ---- bench -----------------------------------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const TrainOptions& t) {
  Rng rng(a.seed);  // random weights and inputs: timing does not depend on them
  models::DeepPoseCascade model(models::deeppose_config(t.stages, t.sigma, t.stage1, t.cascade), rng);
  model.eval();
  return cli::bench_cascade(model, a.batch > 0 ? a.batch : 32, rng, a.json);
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"deeppose: 14 joints as regression, refined by a cascade (lesson 02)"};
  cli::CommonArgs args;
  TrainOptions topt;
  bool names = false, no_flip = false;
  int draw_stage = 0;
  std::vector<std::string> images;

  cli::Command train = cli::add_command(app, args, "train", "train stage 1, then each cascade stage, and save");
  cli::show_train_defaults(train, kTrainDefaults);
  train.option("--stages", topt.stages, "number of stages (1 = no cascade)").range(1, 6);
  train.option("--sigma", topt.sigma, "cascade window side / predicted torso diameter").range(0.1f, 10.0f);
  train.option("--input", topt.stage1.input_size, "stage 1 input size in pixels (multiple of 16)")
      .range(16, 512);
  train.option("--channels", topt.stage1.channels, "stage 1 conv blocks' channels (each halves the size)")
      .expected(1, 8).range(1, 1024);
  train.option("--hidden", topt.stage1.hidden, "stage 1 hidden fully connected units").range(1, 65536);
  train.option("--dropout", topt.stage1.dropout, "stage 1 dropout before the last layer").range(0.0f, 0.9f);
  train.option("--cascade-epochs", topt.cascade_epochs, "epochs of each stage >= 2 (default 3)").range(0, 1000);
  train.option("--cascade-input", topt.cascade.input_size,
               "window size in pixels of each stage >= 2 (multiple of 8)").range(8, 256);
  train.option("--cascade-channels", topt.cascade.channels,
               "conv blocks' channels of each stage >= 2 (each halves the window)")
      .expected(1, 8).range(1, 1024);
  train.option("--cascade-hidden", topt.cascade.hidden, "hidden fully connected units of each stage >= 2")
      .range(1, 65536);
  train.option("--cascade-lr", topt.cascade_lr, "Adam learning rate of each stage >= 2").range(1e-7f, 1.0f);
  train.option("--crops-per-image", topt.crops_per_image,
               "joint windows per training image and epoch (stages >= 2)").range(1, kFigureJoints);
  train.option("--neighbours", topt.neighbours,
               "stages >= 2: a window also trains on the other joints within this many "
               "window sides of its centre (0: its own joint only, as the paper)").range(0.0f, 0.5f);
  train.flag("--facing-camera", topt.facing_camera,
             "relabel the training figures as if all faced the camera (default: their own "
             "left/right)");
  train.flag("--no-flip", no_flip, "stage 1 without mirrored training images");
  train.option("--from", topt.from, "keep this deeppose model's stages before the last of --stages");
  train.option("--limit", topt.limit, "train on this many images only").range(int64_t(1), int64_t(10000000));
  cli::Command eval = cli::add_command(app, args, "eval", "PCK, PDJ, PCP and pixel error per stage", true);
  cli::Command predict = cli::add_command(app, args, "predict", "draw the predicted skeleton on images", true);
  predict.option("images", images, "PNG/JPEG/BMP files").required();
  predict.flag("--names", names, "write the joint names next to the joints");
  predict.option("--stage", draw_stage, "draw this stage's pose (default: the last)").range(1, 16);
  cli::Command bench = cli::add_command(app, args, "bench", "images/s of each stage");
  bench.option("--stages", topt.stages, "number of stages").range(1, 6);

  const int rc = cli::parse(app, argc, argv);
  if (rc >= 0) return rc;
  topt.flip = !no_flip;
  for (const char* c : {"", "cascade-"}) {
    const models::PoseRegressorConfig& r = c[0] ? topt.cascade : topt.stage1;
    if (train && r.input_size % (1 << r.channels.size()) != 0) {
      fmt::print(stderr, "error: --{0}input must be a multiple of 2^(number of --{0}channels)\n", c);
      return 2;
    }
  }
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt);
    if (eval) return cmd_eval(args);
    if (predict) return cmd_predict(args, images, names, draw_stage);
    return cmd_bench(args, topt);
  });
}
