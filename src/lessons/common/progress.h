// Training progress: a one-line bar redrawn in place on a terminal (epoch, step,
// loss, images/s, ETA), plain log lines when stderr is a file or pipe.
#pragma once
#include <chrono>
#include <cstdint>
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

}  // namespace dl::cli
