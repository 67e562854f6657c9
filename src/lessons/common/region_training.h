// What R-CNN's `train` and SPP-net's share (the models differ only in their region
// features: models/rcnn.h, models/spp_net.h). Both read, in order:
//   1. load_region_training_data   scenes, proposals (cached), R-CNN's labelled windows
//   2. (the program builds its model and starts it from lesson 00's backbone)
//   3. finetune_on_windows         softmax fine-tuning on window batches, through fit
//   4. training_features           region features, scaled to a mean norm of 20
//      train_svms_and_regressors   SVMs -> box regressors (models/region_svm_head.h)
//   5. save_region_model           one checkpoint, its curves and its .train.json
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/detection_dataset.h"
#include "lessons/common/cli.h"
#include "lessons/common/fit.h"
#include "lessons/common/proposal_options.h"
#include "models/region_finetuning.h"
#include "models/region_svm_head.h"
#include "nn/module.h"

namespace dl::cli {

// The training flags both programs share: the fine-tuning batches (R-CNN §2.3, SPP-net
// §4.1: a quarter of each batch positive windows), the SVMs' C and hard-negative mining
// rounds, the box regressors' ridge lambda. A program's own TrainOptions extend it.
struct RegionTrainOptions {
  int64_t limit = 0;          // train (and test) scenes; 0: all
  int steps_per_epoch = 500;
  float fg_fraction = 0.25f;  // R-CNN: 32 of 128 windows per batch are positive
  double svm_c = 1e-3;
  int svm_rounds = 4;
  double ridge_lambda = -1;   // -1: models::default_ridge_lambda(feature dimension)
};

// --steps-per-epoch --fg-fraction --svm-c --svm-rounds --ridge-lambda --limit on `train`.
void add_region_train_flags(Command& train, RegionTrainOptions& o);

// Where the steps' summaries go: stderr_log(quiet) prints each line on stderr unless quiet.
using Log = std::function<void(const std::string&)>;
Log stderr_log(bool quiet);

// ---- 1. data --------------------------------------------------------------------------
struct RegionTrainingData {
  DetectionDataset train, test;
  std::vector<std::vector<Box>> train_props;  // each training image's proposals
  models::Labelled windows, test_windows;     // R-CNN's fine-tuning labels
  int64_t proposals = 0;                      // over all training images
  double proposal_seconds = 0;
  double proposals_per_image() const { return double(proposals) / train.items.size(); }
};

// The train and test scenes (--limit), their proposals (cached on disk: computed once
// per image and preset) and labelled windows; `log` gets their counts. Throws FileError
// when there are no training images or no foreground windows.
RegionTrainingData load_region_training_data(const CommonArgs& a, const RegionTrainOptions& t,
                                             const ProposalOptions& po, const Log& log);

// ---- 3. fine-tuning --------------------------------------------------------------------
// batch(test, fg, bg, rng): fg foreground and bg background windows of the training
// split (of the test split when `test`) drawn with rng, as the network reads them.
using WindowBatchFn = std::function<models::WindowBatch(bool test, int fg, int bg, Rng rng)>;
// logits(inputs, train): the network's class scores [n, K + 1], run in train or eval mode.
using WindowLogitsFn = std::function<Var(const Var& inputs, bool train)>;

struct WindowFinetuning {
  std::vector<EpochLog> logs;
  double test_accuracy = -1;  // on a fixed test sample after the last epoch; -1: none
  double seconds = 0;
};

// Fine-tunes `params` by softmax cross-entropy (fit: AdamW with weight decay 0.05, a
// cosine schedule) for --epochs x --steps-per-epoch batches of --batch windows, a
// fg_fraction of them foreground; after each epoch the accuracy on a fixed test sample
// of 1024 windows (25% foreground) is logged as test_window_acc. `resume`: fit's resume
// points for the model being fine-tuned.
WindowFinetuning finetune_on_windows(const std::vector<Var>& params, const FitOptions::Resume& resume,
                                     const CommonArgs& a,
                                     const RegionTrainOptions& t, const RegionTrainingData& d,
                                     const WindowBatchFn& batch, const WindowLogitsFn& logits);

// ---- 4. features -> SVMs -> box regressors -----------------------------------------------
// What training the head did, for the model file and the reports.
struct RegionHeadTraining {
  float feature_scale = 1;  // the model's features must be multiplied by this from now on
  double lambda = 0;        // the regressors' ridge lambda
  nlohmann::json svm_log, bbox_log;
  double feature_seconds = 0, svm_seconds = 0, regression_seconds = 0;
};

// The features of D dimensions that `features` gives for every training proposal and
// ground-truth box, scaled to a mean norm of 20 (models::region_training_features);
// their scale and seconds go to h, a summary to `log`.
models::RegionTrainingFeatures training_features(const RegionTrainingData& d, int D,
                                                 const models::RegionFeatureFn& features,
                                                 RegionHeadTraining& h, const Log& log);

// Trains `head` on them: one SVM per class with hard-negative mining (R-CNN sec. 2.3,
// appendix B; `log` gets each class's summary), then one ridge box regressor per class
// (appendix C); logs and seconds go to h.
void train_svms_and_regressors(const CommonArgs& a, const RegionTrainOptions& t,
                               const RegionTrainingData& d,
                               const models::RegionTrainingFeatures& f,
                               const models::RegionSvmHead& head, RegionHeadTraining& h,
                               const Log& log);

// ---- 5. save ---------------------------------------------------------------------------
// The "train_args" both programs store (a program adds its own keys).
nlohmann::json region_train_args(const CommonArgs& a, const RegionTrainOptions& t,
                                 const ProposalOptions& po, const RegionTrainingData& d,
                                 const std::string& init, const RegionHeadTraining& h);

// Writes the model (config, classes, train_args, the SVMs' mining log, the regressors'
// example counts), its curves titled `title` and STEM.train.json (train_seconds and the
// stages' seconds `timing`: wall times live beside the model, not in it, so the model
// file stays bit-identical). Returns STEM.
std::string save_region_model(const std::string& path, nn::Module& model,
                              const std::string& config_json, const RegionTrainingData& d,
                              const RegionHeadTraining& h, const nlohmann::json& args,
                              const std::vector<EpochLog>& logs, const std::string& title,
                              double train_seconds, const nlohmann::json& timing);

}  // namespace dl::cli
