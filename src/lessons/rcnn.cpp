// Lesson 04, part 1: R-CNN (Girshick et al., "Rich feature hierarchies for accurate
// object detection and semantic segmentation", CVPR 2014). Detection as "recognition
// using regions":
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
// Every region goes through the whole CNN on its own -- the cost the lecture's timing
// chart shows and that SPP-net and Fast R-CNN remove.
//
//   bin/rcnn train     fine-tune the CNN, train SVMs and box regressors, one checkpoint
//   bin/rcnn eval      VOC AP@0.5 per class, mAP and COCO AP on the test scenes
//   bin/rcnn predict IMAGE...   PNG with boxes + JSON
//   bin/rcnn bench [IMAGE...]   seconds per image: proposals / warping / CNN / SVM /
//                               regression / NMS
#include <fmt/core.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "data/batching.h"
#include "data/detection_dataset.h"
#include "detection/bbox_regression.h"
#include "detection/nms.h"
#include "eval/coco_eval.h"
#include "eval/voc_ap.h"
#include "image/draw.h"
#include "image/image.h"
#include "image/transforms.h"
#include "lessons/common/cli.h"
#include "lessons/common/detection_eval.h"
#include "lessons/common/model_file.h"
#include "lessons/common/proposal_options.h"
#include "lessons/common/region_classifier.h"
#include "lessons/common/region_detector_commands.h"
#include "lessons/common/stage_bench.h"
#include "lessons/common/train_loop.h"
#include "nn/checkpoint.h"
#include "models/crop_classifier.h"
#include "nn/linear_svm.h"
#include "models/localizer.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "proposals/proposal_cache.h"
#include "util/files.h"
#include "util/timing.h"

using namespace dl;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kDefaultModel = "data/models/rcnn.safetensors";
const char* kDefaultPretrained = "data/models/classify.safetensors";

// ---- proposals: lessons/common/proposal_options.h -----------------------------------

// ---- the model: fine-tuned CNN + SVMs + box regressors in one checkpoint -------------
struct RcnnConfig {
  models::CropClassifierConfig cnn;
  int context = 2;            // context pixels around the box in the warped crop
  float feature_scale = 1;    // features are multiplied by this (mean L2 norm 20, as R-CNN)
  std::string to_json() const {
    return json({{"arch", "rcnn"},
                 {"cnn", json::parse(cnn.to_json())},
                 {"context", context},
                 {"feature_scale", feature_scale}})
        .dump();
  }
  static RcnnConfig from_json(const std::string& text) {  // throws std::invalid_argument
    RcnnConfig c;
    try {
      const json j = json::parse(text);
      if (j.value("arch", "") != "rcnn")
        throw std::invalid_argument("not an rcnn model (arch '" +
                                    j.value("arch", std::string("?")) + "')");
      c.cnn = models::CropClassifierConfig::from_json(j.at("cnn").dump());
      c.context = j.at("context");
      c.feature_scale = j.at("feature_scale");
    } catch (const json::exception& e) {
      throw std::invalid_argument(std::string("bad model config: ") + e.what());
    }
    if (c.context < 0 || c.context * 2 >= c.cnn.input_size || !(c.feature_scale > 0))
      throw std::invalid_argument("bad model config: context or feature_scale out of range");
    return c;
  }
  int classes() const { return cnn.num_classes - 1; }  // object classes (no background)
  int feature_dim() const { return cnn.hidden; }
};

class RcnnModel : public nn::Module {
 public:
  RcnnModel(const RcnnConfig& c, Rng& rng) : config(c) {
    cnn = std::make_shared<models::CropClassifier>(c.cnn, rng);
    register_module("cnn", cnn);
    const int K = c.classes(), D = c.feature_dim();
    svm_weight = register_buffer("svm_weight", Tensor({K, D}));
    svm_bias = register_buffer("svm_bias", Tensor({K}));
    bbox_weight = register_buffer("bbox_weight", Tensor({K, D + 1, 4}));
  }
  Var forward(const Var& x) override { return cnn->forward(x); }
  std::string name() const override { return "Rcnn"; }

  // The penultimate layer (the "fc" conv after its ReLU) of crops [N, 3, S, S]:
  // [N, hidden], multiplied by feature_scale. Eval mode, no gradients.
  Tensor features(const Tensor& crops) {
    NoGradGuard g;
    cnn->eval();
    Var h = (*cnn->neck)((*cnn->backbone)(Var(crops)));
    h = (*(*cnn->head)[1])((*(*cnn->head)[0])(h));  // conv "fc" + ReLU; dropout is off
    Tensor f = h.value().reshape({crops.size(0), config.feature_dim()});
    for (float& v : f) v *= config.feature_scale;
    return f;
  }

  RcnnConfig config;
  std::shared_ptr<models::CropClassifier> cnn;
  Tensor *svm_weight, *svm_bias, *bbox_weight;
};

std::unique_ptr<RcnnModel> load_model(const std::string& path,
                                      std::vector<std::string>* classes = nullptr) {
  return cli::load_detector<RcnnModel, RcnnConfig>(path, "rcnn", classes);
}

// ---- warping: appendix A's dilate-then-warp, into network input rows ----------------
// Crops `boxes` of img into rows [first, first + n) of `out` ([*, 3, S, S]),
// optionally mirrored. The context outside the image is the image's mean colour
// (zero after R-CNN's mean subtraction).
void warp_into(const Image& img, const std::vector<Box>& boxes, int S, int context, Tensor& out,
               int64_t first, const std::vector<char>* flips = nullptr) {
  const std::vector<uint8_t> fill = image_mean(img);
  const int64_t plane = 3LL * S * S;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(boxes.size()); ++i) {
    const Box& b = boxes[i];
    const Tensor x = models::backbone_input(
        warp_box_with_context(img, b.x1, b.y1, b.x2, b.y2, S, context, fill));
    float* dst = out.data() + (first + i) * plane;
    if (flips && (*flips)[i]) {
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < S; ++y)
          for (int xx = 0; xx < S; ++xx)
            dst[(c * S + y) * S + xx] = x[(c * S + y) * S + S - 1 - xx];
    } else {
      std::copy_n(x.data(), plane, dst);
    }
  }
}

// Features of `boxes` of one image, [n, D], in batches of `batch` crops.
// Adds the time spent warping and in the CNN to the counters when given.
Tensor region_features(RcnnModel& m, const Image& img, const std::vector<Box>& boxes,
                       double* warp_s = nullptr, double* cnn_s = nullptr, int batch = 256) {
  const int S = m.config.cnn.input_size, D = m.config.feature_dim();
  const int64_t n = static_cast<int64_t>(boxes.size());
  Tensor feats({n, D});
  for (int64_t s = 0; s < n; s += batch) {
    const int64_t k = std::min<int64_t>(batch, n - s);
    auto t0 = Clock::now();
    Tensor crops({k, 3, S, S});
    const std::vector<Box> part(boxes.begin() + s, boxes.begin() + s + k);
    warp_into(img, part, S, m.config.context, crops, 0);
    if (warp_s) *warp_s += seconds_since(t0);
    t0 = Clock::now();
    const Tensor f = m.features(crops);
    std::copy_n(f.data(), k * D, feats.data() + s * D);
    if (cnn_s) *cnn_s += seconds_since(t0);
  }
  return feats;
}

// ---- detection: lessons/common/region_classifier.h ----------------------------------
// A detection's score is the SVM's margin w.x + b (> 0: on the class's side).
using DetectOptions = cli::RegionDetectOptions;

// The stages after the proposals, as bench times them.
const std::vector<std::string> kStages = {"warping", "cnn", "svm", "regression", "nms"};

// One image's detections and the seconds of each of kStages.
cli::StageRun detect(RcnnModel& m, const Image& img, const std::vector<Box>& proposals,
                     const DetectOptions& o) {
  double warping = 0, cnn = 0;
  const Tensor f = region_features(m, img, proposals, &warping, &cnn);
  cli::RegionStageTimes rt;
  std::vector<Detection> dets = cli::detect_regions(f, proposals, *m.svm_weight, *m.svm_bias,
                                                    *m.bbox_weight, img.width, img.height, o, rt);
  return {std::move(dets), {warping, cnn, rt.svm, rt.regression, rt.nms}, {}};
}

// R-CNN's detector as the shared eval and predict run it
// (lessons/common/region_detector_commands.h): the model file at `path`, options o.
cli::RegionDetector open_detector(const std::string& path, const DetectOptions& o) {
  cli::RegionDetector d;
  std::shared_ptr<RcnnModel> m = load_model(path, &d.classes);
  d.detect = [m, o](const Image& img, const std::vector<Box>& p) { return detect(*m, img, p, o); };
  return d;
}

// ---- training -----------------------------------------------------------------------
struct TrainOptions : cli::RegionTrainOptions {
  std::string pretrained = kDefaultPretrained;
  bool scratch = false;
  int hidden = 128, c3 = 32, input_size = 22, context = 2;
};

using cli::Labelled;
using cli::Window;
using cli::label_windows;

// A batch of `fg` foreground and `bg` background windows drawn with rng, warped and
// randomly mirrored. The draws happen before the parallel warp: thread-independent.
void make_batch(const DetectionDataset& ds, const Labelled& w, int fg, int bg, int S, int context,
                Rng rng, Tensor& images, Tensor& labels) {
  const int n = fg + bg;
  images = Tensor({n, 3, S, S});
  labels = Tensor({n});
  std::vector<const Window*> pick;
  for (int i = 0; i < n; ++i) {
    const auto& pool = (i < fg && !w.fg.empty()) || w.bg.empty() ? w.fg : w.bg;
    pick.push_back(&pool[rng.below(static_cast<uint32_t>(pool.size()))]);
  }
  std::vector<char> flip(n);
  for (int i = 0; i < n; ++i) flip[i] = rng.bernoulli(0.5f);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    const Window& win = *pick[i];
    const Image& img = ds.items[win.item].image;
    const Tensor x = models::backbone_input(warp_box_with_context(
        img, win.box.x1, win.box.y1, win.box.x2, win.box.y2, S, context, image_mean(img)));
    float* dst = images.data() + int64_t(i) * 3 * S * S;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < S; ++y)
        for (int xx = 0; xx < S; ++xx)
          dst[(c * S + y) * S + xx] = x[(c * S + y) * S + (flip[i] ? S - 1 - xx : xx)];
    labels[i] = static_cast<float>(win.label);
  }
}

int cmd_train(cli::CommonArgs a, const TrainOptions& t, const ProposalOptions& po) {
  const std::string model_path = a.model.empty() ? kDefaultModel : a.model;
  if (a.epochs < 0) a.epochs = 8;
  if (a.batch < 0) a.batch = 128;
  if (a.lr < 0) a.lr = 3e-3f;
  const auto t_all = Clock::now();
  auto log = [&](const std::string& s) {
    if (!a.quiet) fmt::print(stderr, "{}\n", s);
  };

  // 1. data and proposals (cached on disk: computed once per image and preset)
  DetectionDataset train = load_detection_dataset(cli::scenes_split_dir(a, "train"), t.limit);
  DetectionDataset test = load_detection_dataset(cli::scenes_split_dir(a, "test"), t.limit);
  if (train.items.empty()) throw FileError(train.dir, "the training set has no images");
  auto t0 = Clock::now();
  const auto train_props = dataset_proposals(train, po);
  const auto test_props = dataset_proposals(test, po);
  const double proposal_seconds = seconds_since(t0);
  int64_t nprops = 0;
  for (const auto& p : train_props) nprops += static_cast<int64_t>(p.size());
  log(fmt::format("proposals: {:.1f} per train image ({} preset, {:.1f} s incl. cache reads)",
                  double(nprops) / train.items.size(), po.preset, proposal_seconds));
  const Labelled windows = label_windows(train, train_props);
  const Labelled test_windows = label_windows(test, test_props);
  if (windows.fg.empty()) throw FileError(train.dir, "no foreground windows (no objects?)");
  log(fmt::format("fine-tuning windows: {} foreground (IoU >= 0.5 or ground truth), {} background",
                  windows.fg.size(), windows.bg.size()));

  // 2. the CNN: lesson 00's pretrained backbone, fine-tuned on warped proposals
  RcnnConfig cfg;
  cfg.cnn.num_classes = static_cast<int>(train.class_names.size()) + 1;
  cfg.cnn.hidden = t.hidden;
  cfg.cnn.c3 = t.c3;
  cfg.cnn.input_size = t.input_size;
  cfg.context = t.context;
  Rng rng(a.seed);
  RcnnModel model(cfg, rng);
  std::string init = "scratch";
  if (!t.scratch) {
    models::load_grey_backbone(t.pretrained, *model.cnn);
    init = t.pretrained;
  }
  nn::Adam opt = nn::AdamW(model.cnn->parameters(), a.lr, 0.05f);
  const int64_t steps = t.steps_per_epoch;
  nn::LrSchedule sched;
  sched.kind = nn::LrSchedule::Kind::Cosine;
  sched.base_lr = a.lr;
  sched.total = static_cast<int>(steps * a.epochs);
  sched.warmup = static_cast<int>(std::min<int64_t>(100, steps));
  const int fg = std::max(1, static_cast<int>(std::lround(a.batch * t.fg_fraction)));
  const int bg = std::max(0, a.batch - fg);
  const int S = cfg.cnn.input_size;
  // A fixed test sample for the per-epoch accuracy, 25% foreground like the batches.
  Tensor test_x, test_y;
  const bool have_test = !test_windows.fg.empty() && !test_windows.bg.empty();
  if (have_test) make_batch(test, test_windows, 256, 768, S, cfg.context, Rng(12345), test_x, test_y);
  auto step = [&](int, int64_t, int64_t global) {
    model.cnn->train();
    opt.set_lr(static_cast<float>(sched.at(static_cast<int>(global))));
    Tensor x, y;
    make_batch(train, windows, fg, bg, S, cfg.context, Rng(a.seed).fork(1000000 + global), x, y);
    Var logits = model.cnn->classify(Var(x));
    Var loss = ag::cross_entropy(logits, y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    const Tensor pred = argmax(logits.value(), 1);
    int64_t correct = 0;
    for (int64_t i = 0; i < pred.numel(); ++i) correct += pred[i] == y[i];
    return cli::StepResult{loss.item(), y.numel(), correct};
  };
  double test_acc = -1;
  auto epoch_end = [&](cli::EpochLog& l) {
    if (!have_test) return;
    NoGradGuard g;
    model.cnn->eval();
    const Tensor pred = argmax(model.cnn->classify(Var(test_x)).value(), 1);
    int64_t ok = 0;
    for (int64_t i = 0; i < pred.numel(); ++i) ok += pred[i] == test_y[i];
    test_acc = double(ok) / pred.numel();
    l.metrics["test_window_acc"] = test_acc;
  };
  t0 = Clock::now();
  auto logs = cli::train_loop({a.epochs, steps, a.quiet}, step, epoch_end,
                              [&](int e) { return sched.at(static_cast<int>(e * steps)); });
  const double finetune_seconds = seconds_since(t0);
  model.cnn->eval();

  // 3. features of every proposal and ground-truth box (penultimate layer). R-CNN
  //    scales them to a mean L2 norm of 20 so that the SVM's C and the ridge lambda
  //    do not depend on the network's activation scale.
  t0 = Clock::now();
  const int D = cfg.feature_dim();
  std::vector<Tensor> prop_feats(train.items.size()), gt_feats(train.items.size());
  for (size_t i = 0; i < train.items.size(); ++i) {
    prop_feats[i] = region_features(model, train.items[i].image, train_props[i]);
    gt_feats[i] = region_features(model, train.items[i].image, train.items[i].boxes);
  }
  const float scale = cli::norm20_scale(prop_feats, D);
  model.config.feature_scale = scale;
  for (auto* v : {&prop_feats, &gt_feats})
    for (Tensor& f : *v)
      for (float& x : f) x *= scale;
  const double feature_seconds = seconds_since(t0);
  log(fmt::format("features: {} regions x {} dims in {:.1f} s (scale {:.3g} for mean norm 20)",
                  nprops, D, feature_seconds, scale));

  // 4. one linear SVM per class with hard-negative mining (sec. 2.3, appendix B)
  t0 = Clock::now();
  const json svm_log =
      cli::train_region_svms(train, train_props, prop_feats, gt_feats, D, t.svm_c, t.svm_rounds,
                             a.seed, *model.svm_weight, *model.svm_bias, log);
  const double svm_seconds = seconds_since(t0);

  // 5. class-specific ridge box regressors (appendix C): proposals with IoU >= 0.6 with
  //    their best ground truth, which gives both the class and the target.
  //    lambda: the paper's 1000 was for 9216-dim pool5 features of mean norm 20. With
  //    the norm fixed, each of our D dims carries 9216 / D times the energy, so X'X's
  //    diagonal is that much larger; keeping the same relative shrinkage needs
  //    lambda = 1000 * 9216 / D (72000 for the default D = 128).
  t0 = Clock::now();
  const double lambda = t.ridge_lambda >= 0 ? t.ridge_lambda : 1000.0 * 9216.0 / D;
  const json reg_log =
      cli::train_region_regressors(train, train_props, prop_feats, D, lambda, *model.bbox_weight);
  const double regression_seconds = seconds_since(t0);
  const double train_seconds = seconds_since(t_all);

  // 6. save: CNN, SVMs and regressors in one file
  json args = {{"epochs", a.epochs},
               {"batch", a.batch},
               {"lr", a.lr},
               {"seed", a.seed},
               {"init", init},
               {"train_images", train.items.size()},
               {"steps_per_epoch", steps},
               {"fg_fraction", t.fg_fraction},
               {"preset", po.preset},
               {"max_proposals", po.max_proposals},
               {"svm_c", t.svm_c},
               {"svm_rounds", t.svm_rounds},
               {"ridge_lambda", lambda}};
  json timing = {{"total", train_seconds},
                 {"proposals", proposal_seconds},
                 {"finetune", finetune_seconds},
                 {"features", feature_seconds},
                 {"svm", svm_seconds},
                 {"regression", regression_seconds}};
  nn::save_checkpoint(model_path, model,
                      {{"config", model.config.to_json()},
                       {"classes", json(train.class_names).dump()},
                       {"train_args", args.dump()},
                       {"svm_mining", svm_log.dump()},
                       {"bbox_examples", reg_log.dump()}});
  const std::string stem =
      (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  cli::write_training_logs(stem, logs, "rcnn fine-tuning on warped proposals (" + init + ")");
  // Wall times live beside the model, not in it: the model file stays bit-identical.
  write_file_atomic(stem + ".train.json",
                    json({{"train_seconds", train_seconds}, {"stages", timing}}).dump(2) + "\n");
  if (a.json) {
    fmt::print("{}\n", json({{"model", model_path},
                             {"test_window_accuracy", test_acc},
                             {"seconds", timing},
                             {"train_seconds", train_seconds},
                             {"proposals_per_image", double(nprops) / train.items.size()},
                             {"init", init}})
                           .dump());
  } else {
    fmt::print("trained in {:.1f} s: proposals {:.1f} s, fine-tuning {:.1f} s (test window "
               "accuracy {:.1f}%), features {:.1f} s, SVMs {:.1f} s, box regression {:.1f} s\n",
               train_seconds, proposal_seconds, finetune_seconds, 100 * test_acc,
               feature_seconds, svm_seconds, regression_seconds);
    fmt::print("saved {} (+ {}.csv, .svg, .train.json)\n", model_path, stem);
  }
  return 0;
}

// ---- bench: where R-CNN's time goes ---------------------------------------------------
int cmd_bench(const cli::CommonArgs& a, const ProposalOptions& po, const DetectOptions& o,
              const cli::RegionDetectorCommands& c) {
  const std::string path = cli::bench_model_file(a, kDefaultModel);
  Rng rng(a.seed);  // for a random model: timing does not depend on the weights
  const auto model =
      path.empty() ? std::make_unique<RcnnModel>(RcnnConfig(), rng) : load_model(path);
  const cli::StageBench b = cli::run_region_bench(
      a, po, c, kStages,
      [&](const Image& img, const std::vector<Box>& p) { return detect(*model, img, p, o); });
  if (a.json) fmt::print("{}\n", cli::stage_bench_json(b).dump());
  else cli::print_stage_table(b);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine app{"rcnn: R-CNN -- proposals, warped CNN features, SVMs, box regression (lesson 04)"};
  app.require_one_subcommand();
  cli::CommonArgs args;
  TrainOptions topt;
  ProposalOptions po;
  po.min_side = 2;  // a crop is warped from at least 2 x 2 pixels
  cli::RegionDetectorCommands detect;

  cli::Command train = app.subcommand("train", "fine-tune the CNN, train the SVMs and box regressors");
  cli::add_common_flags(train, args);
  cli::add_proposal_flags(train, po);
  train.option("--pretrained", topt.pretrained, "classify model whose backbone to start from");
  train.flag("--scratch", topt.scratch, "random initial weights instead of --pretrained");
  train.option("--hidden", topt.hidden, "feature dimension (the 'fc' layer's channels)")
      .range(1, 4096);
  train.option("--neck-channels", topt.c3, "channels of the neck conv")
      .range(1, 1024);
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
  const DetectOptions dopt = detect.options();
  const std::string model_path = args.model.empty() ? kDefaultModel : args.model;
  return cli::run_guarded([&] {
    cli::apply_threads(args.threads);
    if (train) return cmd_train(args, topt, po);
    if (detect.eval)
      return cli::run_region_eval(args, po, detect, open_detector(model_path, dopt));
    if (detect.predict)
      return cli::run_region_predict(args, po, detect, "rcnn", open_detector(model_path, dopt));
    return cmd_bench(args, po, dopt, detect);
  });
}
