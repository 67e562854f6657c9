// Training progress: a one-line bar redrawn in place on a terminal (epoch, step,
// loss, images/s, ETA), plain log lines when stderr is a file or pipe. TaskProgress: the
// same for a long phase that is not training (a data set's region proposals).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace dl::cli {

class Progress {
 public:
  Progress(int epochs, int64_t steps_per_epoch, bool quiet);
  // After each step: running mean loss of the epoch and images processed so far.
  void update(int epoch, int64_t step, double loss, int64_t images);
  void message(const std::string& line);  // a full line (clears the bar first)

 private:
  int epochs_;
  int64_t steps_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t images_ = 0;
};

// "LABEL: done/total (s, ETA s)" on stderr: redrawn in place on a terminal at most every
// 0.1 s, else a line at each quarter; nothing when quiet. step() may be called from any
// thread (it locks); it only prints, so it changes no result.
class TaskProgress {
 public:
  TaskProgress(std::string label, int64_t total, bool quiet);
  void step();  // one more item done
  // step() as a callback, for functions that take one (proposals/region_proposals.h).
  std::function<void()> callback() {
    return [this] { step(); };
  }

 private:
  std::string label_;
  int64_t total_, done_ = 0;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
};

}  // namespace dl::cli
