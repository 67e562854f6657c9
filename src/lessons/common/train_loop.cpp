#include "lessons/common/train_loop.h"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

#include "lessons/common/plot_svg.h"
#include "lessons/common/progress.h"
#include "util/files.h"
#include "util/timing.h"

namespace dl::cli {

std::vector<EpochLog> train_loop(const TrainLoopConfig& cfg,
                                 const std::function<StepResult(int, int64_t, int64_t)>& step,
                                 const std::function<void(EpochLog&)>& epoch_end,
                                 const std::function<double(int)>& lr_of) {
  std::vector<EpochLog> logs;
  Progress bar(cfg.epochs, cfg.steps_per_epoch, cfg.quiet);
  int64_t global = cfg.first_epoch * cfg.steps_per_epoch, images = 0;
  for (int e = cfg.first_epoch; e < cfg.epochs; ++e) {
    const auto t0 = Clock::now();
    EpochLog log;
    log.epoch = e + 1;
    log.lr = lr_of ? lr_of(e) : 0.0;
    double loss_sum = 0.0;
    int64_t correct = 0, seen = 0;
    bool have_acc = true;
    for (int64_t s = 0; s < cfg.steps_per_epoch; ++s, ++global) {
      StepResult r = step(e, s, global);
      if (!std::isfinite(r.loss))
        throw std::runtime_error(fmt::format(
            "training diverged: loss is {} at epoch {} step {} (global step {}); try a lower --lr",
            r.loss, e + 1, s + 1, global + 1));
      loss_sum += r.loss;
      images += r.images;
      seen += r.images;
      if (r.correct < 0) have_acc = false;
      else correct += r.correct;
      bar.update(e, s, loss_sum / (s + 1), images);
    }
    log.seconds = seconds_since(t0);
    log.train_loss = loss_sum / std::max<int64_t>(1, cfg.steps_per_epoch);
    log.train_acc = have_acc && seen > 0 ? static_cast<double>(correct) / seen : -1.0;
    if (epoch_end) epoch_end(log);
    std::string line = fmt::format("epoch {} lr {:.4g} train loss {:.4f}", log.epoch, log.lr,
                                   log.train_loss);
    if (log.train_acc >= 0) line += fmt::format(" acc {:.4f}", log.train_acc);
    for (auto& m : log.metrics) line += fmt::format(" {} {:.4f}", m.first, m.second);
    line += fmt::format(" ({:.1f}s)", log.seconds);
    bar.message(line);
    logs.push_back(log);
  }
  return logs;
}

std::string epoch_logs_csv(const std::vector<EpochLog>& logs) {
  std::string s = "epoch,lr,train_loss,train_acc,seconds";
  if (!logs.empty())
    for (auto& m : logs[0].metrics) s += "," + m.first;
  s += "\n";
  for (auto& l : logs) {
    s += fmt::format("{},{:.6g},{:.6f},{:.6f},{:.3f}", l.epoch, l.lr, l.train_loss, l.train_acc,
                     l.seconds);
    for (auto& m : l.metrics) s += fmt::format(",{:.6f}", m.second);
    s += "\n";
  }
  return s;
}

void write_training_logs(const std::string& stem, const std::vector<EpochLog>& logs,
                         const std::string& title) {
  write_file_atomic(stem + ".csv", epoch_logs_csv(logs));
  std::vector<Series> series(1);
  series[0].name = "train loss";
  std::map<std::string, Series> extra;
  Series tacc{"train acc", {}, {}};
  for (auto& l : logs) {
    series[0].x.push_back(l.epoch);
    series[0].y.push_back(l.train_loss);
    if (l.train_acc >= 0) tacc.x.push_back(l.epoch), tacc.y.push_back(l.train_acc);
    for (auto& m : l.metrics) {
      extra[m.first].name = m.first;
      extra[m.first].x.push_back(l.epoch);
      extra[m.first].y.push_back(m.second);
    }
  }
  if (!tacc.x.empty()) series.push_back(tacc);
  for (auto& e : extra) series.push_back(e.second);
  write_svg_plot(stem + ".svg", title, "epoch", series);
}

}  // namespace dl::cli
