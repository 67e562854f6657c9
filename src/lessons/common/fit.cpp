#include "lessons/common/fit.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include "nn/checkpoint.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"
#include "util/files.h"

namespace dl::cli {

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
  };
  return train_loop({o.epochs, o.steps_per_epoch, o.quiet}, step, end,
                    [&](int e) { return sched.at(static_cast<int>(e * o.steps_per_epoch)); });
}

std::string save_training_run(const std::string& model_path, nn::Module& model,
                              const std::map<std::string, std::string>& metadata,
                              const std::vector<EpochLog>& logs, const std::string& title,
                              const std::string& timings_json) {
  nn::save_checkpoint(model_path, model, metadata);
  namespace fs = std::filesystem;
  const std::string stem =
      (fs::path(model_path).parent_path() / fs::path(model_path).stem()).string();
  write_training_logs(stem, logs, title);
  if (!timings_json.empty()) write_file_atomic(stem + ".train.json", timings_json);
  return stem;
}

int finish_detector_training(nn::Module& model, const std::vector<EpochLog>& logs,
                             const DetectorTrainingRun& r, bool print_json) {
  using nlohmann::json;
  const std::string stem = save_training_run(
      r.model_path, model,
      {{"config", r.config_json},
       {"classes", json(r.class_names).dump()},
       {"train_args", r.train_args_json},
       {"val_map50", fmt::format("{:.4f}", r.val_map50)}},
      logs, r.program + " (" + r.init + ")",
      json({{"train_seconds", r.total_seconds}, {"training_loop_seconds", r.train_seconds}}).dump(2) +
          "\n");
  if (print_json) {
    fmt::print("{}\n", json({{"model", r.model_path}, {"val_map50", r.val_map50},
                             {"val_images", r.val_images}, {"train_seconds", r.train_seconds},
                             {"total_seconds", r.total_seconds}, {"epochs", r.epochs},
                             {"final_loss", logs.empty() ? 0.0 : logs.back().train_loss},
                             {"first_loss", logs.empty() ? 0.0 : logs.front().train_loss},
                             {"init", r.init}})
                           .dump());
  } else {
    fmt::print("val VOC mAP@0.5 {:.1f}% on {} test scenes after {} epochs; training {:.1f} s\n",
               100 * r.val_map50, r.val_images, r.epochs, r.train_seconds);
    fmt::print("saved {} (+ {}.csv, {}.svg)\n", r.model_path, stem, stem);
  }
  return 0;
}

}  // namespace dl::cli
