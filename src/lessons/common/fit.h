// The one training loop of every program, in the order a student reads it:
//   for each epoch, for each step:  losses = batch_loss(...)        (the model's losses)
//                                   lr = schedule(global step)
//                                   zero_grad; losses.total.backward(); optimizer step
//   at each epoch's end:            the running mean of every named loss, epoch_end(log)
// The optimizer (AdamW, or SGD with Nesterov momentum) and the schedule (linear warm-up,
// then cosine decay to 0 over all steps; SGDR, Loshchilov & Hutter 2017) are set up
// here, so every lesson trains the same way; train_loop.h holds the progress bar and the
// NaN guard, and save_training_run writes the model with its logs.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "lessons/common/cli.h"
#include "lessons/common/train_loop.h"
#include "nn/module.h"
#include "util/output_lock.h"
#include "util/timing.h"

namespace dl::cli {

// The first lines of every `train`: the model file (--model, else `default_model`),
// locked for the run (OutputLock: one run per file, and its folder writable before any
// work), the program's train defaults applied to `a`, and the clock started.
struct TrainStart {
  TrainStart(CommonArgs& a, const std::string& default_model, const TrainDefaults& d);
  const std::string model_path;
  const OutputLock lock;
  const Clock::time_point time;
};

// What one training step computed.
struct StepLosses {
  Var total;  // what is minimised
  std::vector<std::pair<std::string, double>> parts;  // named parts, logged as train_<name>
  int64_t images = 0;    // images in the batch (for images/s)
  int64_t correct = -1;  // optional: correct predictions (train accuracy)
  bool skip = false;     // nothing to learn from this batch: no update, loss 0
};

struct FitOptions {
  int epochs = 1;
  int64_t steps_per_epoch = 1;
  bool quiet = false;
  std::string optimizer = "adamw";  // or "sgd": momentum 0.9, Nesterov
  float lr = 1e-3f;
  float weight_decay = 1e-4f;  // decoupled (AdamW) or L2 (SGD)
  int max_warmup = 100;        // warm-up steps: min(max_warmup, steps_per_epoch)
  // Resume points (resume.h), kept when `model` is set: written after every epoch but
  // the last next to model_path; `resume` continues from one.
  struct Resume {
    nn::Module* model = nullptr;
    std::string model_path;
    bool resume = false;
  } resume = {};
};

// batch_loss(epoch, step, global_step) builds one batch and returns its losses;
// epoch_end(log) may evaluate and add metrics. Throws std::runtime_error on a NaN loss.
std::vector<EpochLog> fit(const std::vector<Var>& params, const FitOptions& o,
                          const std::function<StepLosses(int, int64_t, int64_t)>& batch_loss,
                          const std::function<void(EpochLog&)>& epoch_end = nullptr);

// Writes STEM.csv and STEM.svg (the curves, titled `title`) and STEM.train.json
// (`timings` plus the weights' fingerprint: wall times live beside the model, not in it,
// so the model file stays bit-identical), then the model (metadata as save_checkpoint
// takes it), then removes its resume point. Returns STEM (the model path without its
// extension).
std::string save_training_run(const std::string& model_path, nn::Module& model,
                              const std::map<std::string, std::string>& metadata,
                              const std::vector<EpochLog>& logs, const std::string& title,
                              const std::string& timings_json = "");

}  // namespace dl::cli
