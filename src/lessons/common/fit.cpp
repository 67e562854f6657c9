#include "lessons/common/fit.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include "lessons/common/resume.h"
#include "nn/checkpoint.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "util/files.h"

namespace dl::cli {

TrainStart::TrainStart(CommonArgs& a, const std::string& default_model, const TrainDefaults& d)
    : model_path(a.model.empty() ? default_model : a.model),
      lock(model_path),
      time((apply_train_defaults(a, d), Clock::now())) {}

std::vector<EpochLog> fit(const std::vector<Var>& params, const FitOptions& o,
                          const std::function<StepLosses(int, int64_t, int64_t)>& batch_loss,
                          const std::function<void(EpochLog&)>& epoch_end) {
  std::unique_ptr<nn::Optimizer> opt;
  if (o.optimizer == "sgd")
    opt = std::make_unique<nn::Sgd>(params, o.lr, nn::SgdOptions{0.9f, 0.0f, o.weight_decay, true});
  else
    opt = std::make_unique<nn::Adam>(nn::AdamW(params, o.lr, o.weight_decay));
  nn::LrSchedule sched;
  sched.kind = nn::LrSchedule::Kind::Cosine;
  sched.base_lr = o.lr;
  sched.total = static_cast<int>(o.steps_per_epoch * o.epochs);
  sched.warmup = static_cast<int>(std::min<int64_t>(o.max_warmup, o.steps_per_epoch));

  // Resume points: what must match is what shapes the schedule and the optimizer.
  const std::string run_key = nlohmann::json{{"epochs", o.epochs}, {"steps_per_epoch", o.steps_per_epoch},
                                             {"optimizer", o.optimizer}, {"lr", o.lr},
                                             {"weight_decay", o.weight_decay}, {"max_warmup", o.max_warmup}}
                                  .dump();
  std::vector<EpochLog> done;  // every epoch's log, the resumed ones first
  std::string resume_file;
  if (o.resume.model) {
    resume_file = resume_path(o.resume.model_path);
    if (o.resume.resume && std::filesystem::exists(resume_file)) {
      done = load_resume_point(resume_file, *o.resume.model, *opt, run_key);
      if (!o.quiet)
        fmt::print(stderr, "resuming from {} after epoch {} of {}\n", resume_file, done.size(), o.epochs);
    } else if (o.resume.resume && !o.quiet) {
      fmt::print(stderr, "no resume point {}: training from the start\n", resume_file);
    }
  }

  std::map<std::string, double> sums;  // of each named loss over the epoch's updates
  int64_t updates = 0;
  auto step = [&](int epoch, int64_t s, int64_t global) {
    (void)epoch;
    if (s == 0) sums.clear(), updates = 0;
    StepLosses L = batch_loss(epoch, s, global);
    if (L.skip) return StepResult{0.0, L.images, -1};
    opt->set_lr(static_cast<float>(sched.at(static_cast<int>(global))));
    opt->zero_grad();
    L.total.backward();
    opt->step();
    for (const auto& [name, v] : L.parts) sums[name] += v;
    ++updates;
    return StepResult{L.total.item(), L.images, L.correct};
  };
  auto end = [&](EpochLog& log) {
    for (const auto& [name, sum] : sums) log.metrics["train_" + name] = updates ? sum / updates : 0;
    if (epoch_end) epoch_end(log);
    done.push_back(log);
    // Not after the last epoch: the model itself is saved next.
    if (!resume_file.empty() && log.epoch < o.epochs)
      save_resume_point(resume_file, *o.resume.model, *opt, done, run_key);
  };
  TrainLoopConfig loop{o.epochs, o.steps_per_epoch, o.quiet, static_cast<int>(done.size())};
  train_loop(loop, step, end,
             [&](int e) { return sched.at(static_cast<int>(e * o.steps_per_epoch)); });
  return done;
}

std::string save_training_run(const std::string& model_path, nn::Module& model,
                              const std::map<std::string, std::string>& metadata,
                              const std::vector<EpochLog>& logs, const std::string& title,
                              const std::string& timings_json) {
  namespace fs = std::filesystem;
  const std::string stem =
      (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  // The logs first, then the model: a run killed in between leaves the old, complete
  // model, and the new logs' fingerprint (not the old model's) tells them apart.
  nlohmann::json run = timings_json.empty() ? nlohmann::json::object() : nlohmann::json::parse(timings_json);
  run["weights_fingerprint"] = fmt::format("{:016x}", nn::weights_fingerprint(model));
  // A resumed run's clock started at the resume point: the epochs the interrupted run
  // trained count too, so the recorded training time is the whole run's.
  double resumed_seconds = 0;
  int resumed_epochs = 0;
  for (const EpochLog& l : logs)
    if (l.resumed) resumed_seconds += l.seconds, ++resumed_epochs;
  if (resumed_epochs > 0) {
    for (const char* key : {"train_seconds", "training_loop_seconds"})
      if (run.contains(key) && run[key].is_number())
        run[key] = run[key].get<double>() + resumed_seconds;
    run["resumed_epochs"] = resumed_epochs;
    run["resumed_seconds"] = resumed_seconds;
  }
  write_training_logs(stem, logs, title);
  write_file_atomic(stem + ".train.json", run.dump(2) + "\n");
  nn::save_checkpoint(model_path, model, metadata);
  std::error_code ec;
  fs::remove(resume_path(model_path), ec);  // the run is complete
  return stem;
}

}  // namespace dl::cli
