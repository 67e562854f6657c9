// The generic training loop every program uses: epochs x steps, a progress bar,
// a NaN/Inf guard on the loss, per-epoch callbacks for evaluation, and a CSV log
// plus an SVG plot of the curves written next to the model.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dl::cli {

struct StepResult {
  double loss = 0.0;   // the mini-batch loss
  int64_t images = 0;  // images in the batch (for images/s)
  int64_t correct = -1;  // optional: correct predictions (train accuracy)
};

struct EpochLog {
  int epoch = 0;                    // 1-based
  double lr = 0.0;
  double train_loss = 0.0;          // mean over the epoch's steps
  double train_acc = -1.0;          // -1 when unknown
  double seconds = 0.0;             // training time of this epoch
  bool resumed = false;             // trained by an earlier, interrupted run (resume.h)
  std::map<std::string, double> metrics;  // filled by the epoch-end callback (e.g. test_acc)
};

struct TrainLoopConfig {
  int epochs = 1;
  int64_t steps_per_epoch = 1;
  bool quiet = false;
  int first_epoch = 0;  // > 0: epochs before it were done by an earlier, resumed run
};

// step(epoch, step, global_step) trains on one batch. Throws std::runtime_error
// naming the epoch and step when a loss is NaN or infinite.
// epoch_end(log) may add metrics; lr_of(epoch) reports the LR for the log.
std::vector<EpochLog> train_loop(const TrainLoopConfig& cfg,
                                 const std::function<StepResult(int, int64_t, int64_t)>& step,
                                 const std::function<void(EpochLog&)>& epoch_end,
                                 const std::function<double(int)>& lr_of = nullptr);

// epoch,lr,train_loss,train_acc,seconds,<metrics...>
std::string epoch_logs_csv(const std::vector<EpochLog>& logs);
// Writes `stem`.csv and `stem`.svg (loss and accuracy curves), atomically.
void write_training_logs(const std::string& stem, const std::vector<EpochLog>& logs,
                         const std::string& title);

}  // namespace dl::cli
